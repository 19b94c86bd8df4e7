"""Portfolio figures for supervisors: open alerts by kind × bucket, offline devices, cars in risk zones."""

from dataclasses import dataclass

from storage.alert_queries import BUCKET_SQL, LIVE_SQL
from storage.database import Connection

# DESIGN.md: a wired unit silent for 24 h is offline; the portfolio figure uses that one bar.
OFFLINE_AFTER_H = 24


@dataclass(frozen=True, slots=True)
class Portfolio:
    open_alerts: dict[str, dict[str, int]]  # kind -> bucket -> count
    devices_active: int
    devices_offline: int
    vehicles_in_risk_zones: int


def stats(conn: Connection) -> Portfolio:
    """The portfolio figures, from live alerts and the positions of active devices."""
    grid: dict[str, dict[str, int]] = {}
    rows = conn.execute(
        f"""
        SELECT a.kind, {BUCKET_SQL} AS bucket, count(*)
          FROM alerts a
          JOIN loans l ON l.loan_id = a.loan_id
         WHERE a.status IN {LIVE_SQL}
         GROUP BY a.kind, bucket
        """
    ).fetchall()
    for kind, bucket, count in rows:
        grid.setdefault(str(kind), {})[str(bucket)] = int(count)
    devices = conn.execute(
        """
        SELECT count(*),
               count(*) FILTER (WHERE NOT EXISTS (
                    SELECT 1 FROM positions p
                     WHERE p.device_id = d.device_id
                       AND p.ts > now() - make_interval(hours => %s)))
          FROM devices d
         WHERE d.active
        """,
        (OFFLINE_AFTER_H,),
    ).fetchone()
    zones = conn.execute(
        f"""
        SELECT count(DISTINCT vin)
          FROM alerts
         WHERE kind IN ('risk_zone_enter', 'risk_zone_dwell')
           AND status IN {LIVE_SQL}
        """
    ).fetchone()
    assert devices is not None and zones is not None
    return Portfolio(grid, int(devices[0]), int(devices[1]), int(zones[0]))


def busiest_collector(conn: Connection) -> str | None:
    """The collector with the most live, actionable alerts on their loans (the demo signs in as them)."""
    row = conn.execute(
        f"""
        SELECT l.assigned_collector
          FROM alerts a
          JOIN loans l ON l.loan_id = a.loan_id
         WHERE a.status IN {LIVE_SQL}
           AND a.hold_reason IS NULL
           AND l.assigned_collector IS NOT NULL
         GROUP BY l.assigned_collector
         ORDER BY count(*) DESC, l.assigned_collector
         LIMIT 1
        """
    ).fetchone()
    return None if row is None else str(row[0])
