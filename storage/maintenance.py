"""Keeping the positions store in shape: day partitions or TimescaleDB policies, and retention.

Native layout: one partition a day, named positions_pYYYYMMDD. The writer asks for the days
of each batch (ensure_days, cached), and the scheduled maintenance creates days ahead and
drops the partitions whose whole day is older than the retention period: dropping a
partition is instant and leaves no bloat, unlike DELETE.

TimescaleDB layout: chunks come by themselves; compression, retention and aggregate refresh
run as TimescaleDB background jobs whose intervals come from settings.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from storage.database import Connection
from storage.migrate import Layout, current_layout

log = logging.getLogger(__name__)

_PREFIX = "positions_p"


def existing_days(conn: Connection) -> set[date]:
    """The days that have a native partition."""
    rows = conn.execute(
        """
        SELECT c.relname
        FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'positions'::regclass
        """
    ).fetchall()
    days: set[date] = set()
    for (name,) in rows:
        if name.startswith(_PREFIX):
            days.add(datetime.strptime(name[len(_PREFIX) :], "%Y%m%d").date())
    return days


def create_days(conn: Connection, days: Iterable[date]) -> list[date]:
    """Create the missing partitions for these UTC days; returns the ones created.

    Through positions_create_day (migration 0009), which runs as the owner of positions: the
    services' role owns no table."""
    created: list[date] = []
    for day in sorted(set(days)):
        conn.execute("SELECT positions_create_day(%s)", (day,))
        created.append(day)
    return created


@dataclass
class MaintenanceReport:
    layout: Layout
    created: list[date]
    dropped: list[date]


def maintain(
    conn: Connection,
    *,
    today: date,
    retention_days: int,
    ahead_days: int,
    compress_after_days: int,
) -> MaintenanceReport:
    """Create partitions ahead and drop expired ones (native), or set policies (TimescaleDB)."""
    layout = current_layout(conn)
    if layout is None:
        raise RuntimeError("positions do not exist yet: run `lienwatch db migrate` first")
    if layout == "timescale":
        if _owns_positions(conn):
            apply_timescale_policies(conn, retention_days=retention_days, compress_after_days=compress_after_days)
        else:
            # Policies are the owner's to change; `lienwatch db migrate` (as the owner) applies them.
            log.info("positions policies left as they are: this role does not own positions")
        return MaintenanceReport(layout, [], [])
    have = existing_days(conn)
    wanted = {today + timedelta(days=n) for n in range(ahead_days + 1)}
    created = create_days(conn, wanted - have)
    oldest_kept = today - timedelta(days=retention_days)
    dropped: list[date] = []
    for day in sorted(have):
        if day < oldest_kept:
            conn.execute("SELECT positions_drop_day(%s)", (day,))
            dropped.append(day)
    if created or dropped:
        log.info("positions partitions: created %d, dropped %d", len(created), len(dropped))
    return MaintenanceReport(layout, created, dropped)


def _owns_positions(conn: Connection) -> bool:
    row = conn.execute(
        "SELECT pg_has_role(current_user, relowner, 'USAGE') FROM pg_class WHERE oid = 'positions'::regclass"
    ).fetchone()
    return bool(row and row[0])


def apply_timescale_policies(conn: Connection, *, retention_days: int, compress_after_days: int) -> None:
    """Set compression, retention and aggregate-refresh policies to the configured intervals."""
    # remove + add makes a changed setting take effect; both are cheap catalogue updates.
    conn.execute("SELECT remove_compression_policy('positions', if_exists => true)")
    conn.execute("SELECT add_compression_policy('positions', make_interval(days => %s))", (compress_after_days,))
    conn.execute("SELECT remove_retention_policy('positions', if_exists => true)")
    conn.execute("SELECT add_retention_policy('positions', make_interval(days => %s))", (retention_days,))
    conn.execute("SELECT remove_continuous_aggregate_policy('positions_5min', if_not_exists => true)")
    conn.execute(
        """
        SELECT add_continuous_aggregate_policy('positions_5min',
            start_offset => make_interval(days => %s),
            end_offset => INTERVAL '5 minutes',
            schedule_interval => INTERVAL '5 minutes')
        """,
        (min(retention_days, 30),),
    )
