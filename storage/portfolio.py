"""Portfolio figures for supervisors: open alerts by kind × bucket, offline devices, cars in risk zones."""

from dataclasses import dataclass

from storage.alert_queries import BUCKET_SQL, LIVE_SQL
from storage.database import Connection
from storage.detector_state import JUDGED_OFFLINE_SQL


@dataclass(frozen=True, slots=True)
class Portfolio:
    open_alerts: dict[str, dict[str, int]]  # kind -> bucket -> count
    devices_active: int
    devices_offline: int
    vehicles_in_risk_zones: int


def stats(conn: Connection) -> Portfolio:
    """The portfolio figures, from live alerts and the active devices' state.

    An active device is offline when it never reported or the detectors judge it so (its own
    threshold, not one bar for every kind), as the vehicle status says."""
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
        f"""
        SELECT count(*),
               count(*) FILTER (WHERE {JUDGED_OFFLINE_SQL} OR NOT EXISTS (
                    SELECT 1 FROM positions p WHERE p.device_id = d.device_id))
          FROM devices d
          LEFT JOIN device_state ds ON ds.device_id = d.device_id
         WHERE d.active
        """
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
