"""Ordered, idempotent migrations, with the positions layout chosen by TimescaleDB's presence.

Files in storage/migrations are named NNNN_name.sql, or NNNN_name.<layout>.sql where one
step differs between the TimescaleDB and the native-partitioning layout. Each file runs in
its own transaction under an advisory lock and is recorded in schema_migrations, so a second
run applies nothing. The layout is decided once, when positions are first created, and
recorded with that step.
"""

import logging
import re
from dataclasses import dataclass
from importlib import resources
from typing import Literal

import psycopg

from storage.database import Connection
from storage.errors import MigrationError

log = logging.getLogger(__name__)

Layout = Literal["timescale", "native"]
TimescaleMode = Literal["auto", "on", "off"]

_FILE = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)(?:\.(?P<layout>timescale|native))?\.sql$")
_LOCK_KEY = 0x6C69656E  # "lien": serialises concurrent `db migrate` runs

_BOOKKEEPING = """
    CREATE TABLE IF NOT EXISTS schema_migrations (
        version     text PRIMARY KEY,
        name        text NOT NULL,
        layout      text,
        applied_at  timestamptz NOT NULL DEFAULT now()
    )
"""


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    layout: Layout | None
    sql: str


@dataclass(frozen=True)
class Status:
    applied: list[tuple[str, str, str | None]]  # (version, name, layout)
    pending: list[str]
    layout: Layout | None
    timescale_version: str | None


def available_migrations() -> list[Migration]:
    """Every migration file shipped with the package, in order."""
    found: list[Migration] = []
    for entry in resources.files("storage").joinpath("migrations").iterdir():
        match = _FILE.match(entry.name)
        if match is None:
            continue
        layout = match["layout"]
        found.append(
            Migration(match["version"], match["name"], layout, entry.read_text(encoding="utf-8"))  # type: ignore[arg-type]
        )
    return sorted(found, key=lambda m: (m.version, m.layout or ""))


def _timescale_installable(conn: Connection) -> bool:
    """True when CREATE EXTENSION timescaledb succeeds here (it needs shared_preload_libraries)."""
    row = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'").fetchone()
    if row is None:
        return False
    try:
        with conn.transaction():
            conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    except psycopg.Error as exc:
        log.info("timescaledb is packaged but cannot be created here: %s", exc)
        return False
    return True


def _choose_layout(conn: Connection, mode: TimescaleMode) -> Layout:
    if mode == "off":
        return "native"
    if _timescale_installable(conn):
        return "timescale"
    if mode == "on":
        raise MigrationError("LIENWATCH_TIMESCALE=on but the timescaledb extension cannot be created")
    return "native"


def _applied(conn: Connection) -> dict[str, tuple[str, str | None]]:
    rows = conn.execute("SELECT version, name, layout FROM schema_migrations ORDER BY version").fetchall()
    return {version: (name, layout) for version, name, layout in rows}


def current_layout(conn: Connection) -> Layout | None:
    """The positions layout recorded when positions were created, or None before that."""
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return None
    row = conn.execute(
        "SELECT layout FROM schema_migrations WHERE layout IS NOT NULL ORDER BY version LIMIT 1"
    ).fetchone()
    return row[0] if row else None


def migrate(conn: Connection, *, timescale: TimescaleMode = "auto") -> list[str]:
    """Apply every pending migration; returns the versions applied (empty when up to date)."""
    conn.autocommit = True
    conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
    try:
        conn.execute(_BOOKKEEPING)
        applied = _applied(conn)
        layout = current_layout(conn)
        done: list[str] = []
        for version in sorted({m.version for m in available_migrations()}):
            if version in applied:
                continue
            candidates = [m for m in available_migrations() if m.version == version]
            if any(m.layout for m in candidates):
                if layout is None:
                    layout = _choose_layout(conn, timescale)
                chosen = next((m for m in candidates if m.layout == layout), None)
                if chosen is None:
                    raise MigrationError(f"migration {version}: no file for the {layout} layout")
            else:
                chosen = candidates[0]
            _apply(conn, chosen)
            done.append(f"{chosen.version}_{chosen.name}" + (f" ({chosen.layout})" if chosen.layout else ""))
        return done
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))


def _apply(conn: Connection, migration: Migration) -> None:
    log.info("applying migration %s_%s", migration.version, migration.name)
    try:
        with conn.transaction():
            conn.execute(migration.sql.encode())
            conn.execute(
                "INSERT INTO schema_migrations (version, name, layout) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.layout),
            )
    except psycopg.Error as exc:
        raise MigrationError(f"migration {migration.version}_{migration.name} failed: {exc}") from exc


def status(conn: Connection) -> Status:
    """What is applied, what is pending, and which positions layout is in use."""
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    applied = _applied(conn) if exists and exists[0] else {}
    versions = sorted({m.version for m in available_migrations()})
    pending = [v for v in versions if v not in applied]
    row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
    return Status(
        applied=[(v, name, layout) for v, (name, layout) in sorted(applied.items())],
        pending=pending,
        layout=current_layout(conn),
        timescale_version=row[0] if row else None,
    )
