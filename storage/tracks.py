"""Where a vehicle is and where it went: last fixes per device and tracks, raw or downsampled.

Downsampling bins fixes with date_bin (the same SQL on both positions layouts) and keeps the last
fix of each bin; on TimescaleDB, bins of whole five-minute multiples read the positions_5min
continuous aggregate instead of the raw hypertable (the first bin then also holds the fixes of
its five-minute bucket from just before `start`).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from storage.alert_queries import LIVE_SQL
from storage.database import Connection
from storage.migrate import Layout

_AGGREGATE_BIN_S = 300  # positions_5min's bucket width
_NATIVE_BIN_S = 60
# Bins sit on a fixed grid (whole minutes, whole five minutes), so they line up with the
# aggregate's buckets and two reads of overlapping ranges agree.
_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class VehicleLoan:
    """The loan a vehicle secures, with what decides who may see its location."""

    vin: str
    plate: str | None
    make_model: str | None
    loan_id: str | None
    loan_status: str | None
    days_past_due: int | None
    assigned_collector: str | None
    borrower_name: str | None
    assigned_alert: bool  # a live alert on the loan is assigned to someone for recovery
    device_alert: bool  # a live tamper / offline / power_cut alert on the loan
    legal_hold: str | None = None  # the legal hold in force on the loan: "bankruptcy", "dispute until …"


@dataclass(frozen=True, slots=True)
class LastFix:
    device_id: str
    kind: str
    active: bool
    ts: datetime | None
    lat: float | None
    lon: float | None
    accuracy_m: float | None
    speed_kmh: float | None
    source: str | None
    battery_pct: float | None
    power_v: float | None
    alarms: list[str] | None


@dataclass(frozen=True, slots=True)
class TrackPoint:
    device_id: str
    ts: datetime
    lat: float
    lon: float
    speed_kmh: float | None
    fixes: int


# What decides who may see a loan's locations: the loan, and its live alerts (assigned for
# recovery; tamper, offline or power cut open), and a legal hold in force on it.
_ACCESS_COLUMNS = """
    v.vin, v.plate, v.make_model, l.loan_id, l.status, l.days_past_due,
    l.assigned_collector, l.borrower_name,
    coalesce(bool_or(a.status = 'assigned'), false),
    coalesce(bool_or(a.kind IN ('tamper', 'offline', 'power_cut')), false),
    (SELECT h.kind || coalesce(' until ' || h.until::text, '')  -- as loans.hold_in_force
       FROM loan_holds h
      WHERE h.loan_id = l.loan_id
        AND h.released_at IS NULL
        AND (h.until IS NULL OR h.until >= current_date)
      ORDER BY h.hold_id
      LIMIT 1)
"""
_ACCESS_ALERTS = f"LEFT JOIN alerts a ON a.loan_id = l.loan_id AND a.status IN {LIVE_SQL}"
_ACCESS_GROUP = """
    GROUP BY v.vin, v.plate, v.make_model, l.loan_id, l.status, l.days_past_due,
             l.assigned_collector, l.borrower_name
"""


def vehicle_loan(conn: Connection, vin: str) -> VehicleLoan | None:
    """The vehicle and its current loan (the newest unsettled one, else the newest), or None."""
    row = conn.execute(
        f"""
        SELECT {_ACCESS_COLUMNS}
          FROM vehicles v
          LEFT JOIN LATERAL (
                SELECT * FROM loans
                 WHERE loans.vin = v.vin
                 ORDER BY (status = 'settled'), updated_at DESC
                 LIMIT 1) l ON true
          {_ACCESS_ALERTS}
         WHERE v.vin = %s
         {_ACCESS_GROUP}
        """,
        (vin,),
    ).fetchone()
    return VehicleLoan(*row) if row else None


def loans_access(conn: Connection, loan_ids: Sequence[str]) -> dict[str, VehicleLoan]:
    """Each of these loans with its vehicle, as `vehicle_loan` gives them (unknown ids are absent)."""
    rows = conn.execute(
        f"""
        SELECT {_ACCESS_COLUMNS}
          FROM loans l
          JOIN vehicles v ON v.vin = l.vin
          {_ACCESS_ALERTS}
         WHERE l.loan_id = ANY(%s)
         {_ACCESS_GROUP}
        """,
        (list(loan_ids),),
    ).fetchall()
    return {row[3]: VehicleLoan(*row) for row in rows}


def last_fixes(conn: Connection, vin: str) -> list[LastFix]:
    """Each device of the vehicle with its newest fix (None fields when it never reported)."""
    rows = conn.execute(
        """
        SELECT d.device_id, d.kind, d.active, p.ts, p.lat, p.lon, p.accuracy_m, p.speed_kmh,
               p.source, p.battery_pct, p.power_v, p.alarms
          FROM devices d
          LEFT JOIN LATERAL (
                SELECT * FROM positions
                 WHERE positions.device_id = d.device_id
                 ORDER BY ts DESC
                 LIMIT 1) p ON true
         WHERE d.vin = %s
         ORDER BY d.device_id
        """,
        (vin,),
    ).fetchall()
    return [LastFix(*row) for row in rows]


def raw_track(conn: Connection, device_ids: list[str], start: datetime, end: datetime, limit: int) -> list[TrackPoint]:
    """Every fix of these devices in [start, end), oldest first."""
    # Binary results: a day of fixes parses in about two thirds of the time text takes.
    rows = conn.cursor(binary=True).execute(
        """
        SELECT device_id, ts, lat, lon, speed_kmh, 1
          FROM positions
         WHERE device_id = ANY(%s) AND ts >= %s AND ts < %s
         ORDER BY ts, device_id
         LIMIT %s
        """,
        (device_ids, start, end, limit),
    ).fetchall()
    return [TrackPoint(*row) for row in rows]


def bin_grid_s(layout: Layout) -> int:
    """What bin widths are a multiple of: the aggregate's buckets on TimescaleDB, else whole minutes."""
    return _AGGREGATE_BIN_S if layout == "timescale" else _NATIVE_BIN_S


def binned_track(
    conn: Connection, device_ids: list[str], start: datetime, end: datetime, *, bin_s: int, layout: Layout
) -> list[TrackPoint]:
    """The last fix of each bin of bin_s seconds, with the bin's fix count and top speed."""
    if layout == "timescale" and bin_s % _AGGREGATE_BIN_S == 0:
        source = """
            SELECT device_id, bucket AS ts, lat, lon, max_speed_kmh AS speed_kmh, fixes
              FROM positions_5min
             WHERE device_id = ANY(%(devices)s)
               AND bucket > %(start)s - make_interval(secs => %(agg)s) AND bucket < %(end)s
        """
    else:
        source = """
            SELECT device_id, ts, lat, lon, speed_kmh, 1 AS fixes
              FROM positions
             WHERE device_id = ANY(%(devices)s) AND ts >= %(start)s AND ts < %(end)s
        """
    rows = conn.cursor(binary=True).execute(
        f"""
        SELECT device_id,
               date_bin(make_interval(secs => %(bin)s), ts, %(origin)s) AS bin,
               (array_agg(lat ORDER BY ts DESC))[1],
               (array_agg(lon ORDER BY ts DESC))[1],
               max(speed_kmh),
               sum(fixes)::int
          FROM ({source}) s
         GROUP BY device_id, bin
         ORDER BY bin, device_id
        """,
        {"devices": device_ids, "start": start, "end": end, "bin": bin_s, "agg": _AGGREGATE_BIN_S, "origin": _ORIGIN},
    ).fetchall()
    return [TrackPoint(*row) for row in rows]
