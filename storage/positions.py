"""Writing positions: binary COPY into a staging table, then one deduplicating INSERT.

COPY cannot skip duplicates, and a redelivered MQTT message must not fail its batch, so
each batch is copied into a per-connection temporary table and moved with
INSERT ... ON CONFLICT DO NOTHING RETURNING the keys that were new. The same statements
serve the TimescaleDB hypertable and the natively partitioned table.
"""

import contextlib
from collections.abc import Iterable, Sequence
from datetime import date, datetime

import psycopg
from psycopg.types.json import Jsonb

from domain.position import REPORTED_FIELDS, Position
from storage import maintenance
from storage.database import Connection
from storage.migrate import Layout

COLUMNS = (*REPORTED_FIELDS, "extra", "received_at")
COPY_TYPES = (
    "text",
    "timestamptz",
    "float8",
    "float8",
    "float4",
    "float4",
    "float4",
    "bool",
    "text",
    "float4",
    "float4",
    "text[]",
    "int8",
    "jsonb",
    "timestamptz",
)
_COLS = ", ".join(COLUMNS)

_STAGING = """
    CREATE TEMP TABLE IF NOT EXISTS positions_staging
        (LIKE positions INCLUDING DEFAULTS) ON COMMIT DELETE ROWS
"""
_COPY = f"COPY positions_staging ({_COLS}) FROM STDIN (FORMAT BINARY)"
_MOVE = f"""
    INSERT INTO positions ({_COLS})
    SELECT {_COLS} FROM positions_staging
    ON CONFLICT (device_id, ts) DO NOTHING
    RETURNING device_id, ts
"""

Key = tuple[str, datetime]


def copy_row(p: Position) -> tuple[object, ...]:
    """One position as a COPY row, in COLUMNS order."""
    return (
        p.device_id,
        p.ts,
        p.lat,
        p.lon,
        p.accuracy_m,
        p.speed_kmh,
        p.heading,
        p.ignition,
        p.source,
        p.battery_pct,
        p.power_v,
        list(p.alarms) if p.alarms else None,
        p.seq,
        Jsonb(p.extra) if p.extra else None,
        p.received_at,
    )


class PositionWriter:
    """Stores batches of positions on one connection; call inside a transaction."""

    def __init__(self, conn: Connection, layout: Layout) -> None:
        self._conn = conn
        self._layout = layout
        self._days: set[date] = set()
        conn.execute(_STAGING)
        if layout == "native":
            self._days = maintenance.existing_days(conn)

    def ensure_days(self, positions: Iterable[Position]) -> None:
        """Create any missing day partitions (native layout); outside the batch transaction."""
        if self._layout != "native":
            return
        missing = {p.ts.date() for p in positions} - self._days
        if not missing:
            return
        for day in sorted(missing):
            with contextlib.suppress(psycopg.errors.DuplicateTable):  # another writer made it first
                maintenance.create_days(self._conn, [day])
            self._days.add(day)

    def insert(self, positions: Sequence[Position]) -> list[Position]:
        """Copy and move one batch; returns the positions that were new (not duplicates)."""
        if not positions:
            return []
        unique: dict[Key, Position] = {}
        for p in positions:
            unique.setdefault((p.device_id, p.ts), p)
        with self._conn.cursor() as cur:
            with cur.copy(_COPY) as copy:
                copy.set_types(COPY_TYPES)
                for p in unique.values():
                    copy.write_row(copy_row(p))
            cur.execute(_MOVE)
            inserted = cur.fetchall()
        return [unique[(device, ts)] for device, ts in inserted]
