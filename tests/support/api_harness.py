"""Shared helpers for the API tests: a migrated database of each module's own (the API writes
audit rows and webhook subscriptions that other tests must not see), and seeding of loans,
devices, positions, alerts and users with ids unique to the calling test (no tests live here)."""

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from alerts.actions import AlertDraft
from domain.position import Position
from storage import migrate, users
from storage.alerts import upsert
from storage.migrate import current_layout
from storage.positions import PositionWriter
from tests.conftest import create_database, drop_database

NOW = datetime.now(UTC).replace(microsecond=0)


@contextmanager
def own_database(*, timescale: bool = False) -> Iterator[str]:
    """A freshly migrated database (native layout, or TimescaleDB's), dropped afterwards."""
    url = create_database("lw_api")
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            migrate.migrate(conn, timescale="on" if timescale else "off")
        yield url
    finally:
        drop_database(url)


def unique(prefix: str) -> str:
    """An id no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def add_user(db: str, role: str, name: str | None = None) -> tuple[str, str]:
    """A new user of this role; (name, bearer token)."""
    name = name or unique(role)
    with psycopg.connect(db, autocommit=True) as conn:
        return name, users.create_user(conn, name, role, ttl=timedelta(days=1))


def auth(token: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


def add_loan(
    db: str,
    *,
    dpd: int = 0,
    collector: str | None = None,
    status: str = "active",
    plate: str = "京A12345",
    borrower: str = "Zhang Sanfeng",
) -> tuple[str, str]:
    """A vehicle and a loan on it; (loan_id, vin)."""
    loan_id, vin = unique("L"), unique("VIN")
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("INSERT INTO vehicles (vin, plate) VALUES (%s, %s)", (vin, plate))
        conn.execute(
            """
            INSERT INTO loans (loan_id, vin, borrower_name, status, days_past_due, assigned_collector)
            VALUES (%s, %s, %s, %s, %s, %s)
            """,
            (loan_id, vin, borrower, status, dpd, collector),
        )
    return loan_id, vin


def add_device(db: str, vin: str | None, kind: str = "wired") -> str:
    """A registered device on that vehicle; its id."""
    device_id = unique("dev")
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("INSERT INTO devices (device_id, kind, vin) VALUES (%s, %s, %s)", (device_id, kind, vin))
    return device_id


def add_positions(db: str, device_id: str, fixes: Sequence[tuple[datetime, float, float]]) -> None:
    """Store fixes (ts, lat, lon) through the ingestor's writer."""
    positions = [Position(device_id, ts, lat, lon, received_at=ts, speed_kmh=30.0) for ts, lat, lon in fixes]
    with psycopg.connect(db, autocommit=True) as conn:
        layout = current_layout(conn)
        assert layout is not None
        writer = PositionWriter(conn, layout)
        writer.ensure_days(positions)
        with conn.transaction():
            writer.insert(positions)


def add_alert(
    db: str,
    loan_id: str,
    vin: str | None,
    *,
    kind: str = "long_idle",
    severity: str = "medium",
    priority: float = 1.0,
    hold_reason: str | None = None,
    evidence: dict[str, Any] | None = None,
    subject: str = "",
) -> int:
    """An open alert as the engine would write it; its id."""
    draft = AlertDraft(
        kind=kind,
        severity=severity,
        loan_id=loan_id,
        vin=vin,
        subject=subject,
        at=NOW - timedelta(minutes=5),
        priority=priority,
        hold_reason=hold_reason,
        evidence=evidence or {"fixes": [{"lat": 31.230416, "lon": 121.473701}], "dpd": 0},
    )
    with psycopg.connect(db, autocommit=True) as conn, conn.transaction():
        alert_id, _ = upsert(conn, draft)
    return alert_id


def audit_rows(db: str, *, actor: str, action: str | None = None) -> list[tuple[Any, ...]]:
    """(action, subject_type, subject_id, purpose, detail) of an actor's audit rows, oldest first."""
    with psycopg.connect(db) as conn:
        return conn.execute(
            """
            SELECT action, subject_type, subject_id, purpose, detail FROM audit_log
             WHERE actor = %s AND (%s::text IS NULL OR action = %s)
             ORDER BY audit_id
            """,
            (actor, action, action),
        ).fetchall()
