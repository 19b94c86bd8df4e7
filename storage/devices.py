"""Devices: registered by the loan system or an installer (pair, cadence), read by the ingestor and
detectors, and the device command log."""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from domain.assets import Device
from domain.ids import DeviceId, Vin
from domain.vocabulary import DeviceKind
from storage import vehicles
from storage.database import Connection
from storage.errors import StorageError


class DeviceNotFound(StorageError, KeyError):
    """No device has this id."""


@dataclass(frozen=True, slots=True)
class DeviceRow:
    device_id: str
    kind: str
    vin: str | None
    moving_interval_s: int | None
    parked_interval_s: int | None
    scheduled_interval_s: int | None
    registered_at: datetime
    active: bool


_SELECT = """
    SELECT device_id, kind, vin, moving_interval_s, parked_interval_s, scheduled_interval_s,
           registered_at, active
      FROM devices
"""


def get_device(conn: Connection, device_id: str) -> DeviceRow:
    """One device."""
    row = conn.execute(f"{_SELECT} WHERE device_id = %s", (device_id,)).fetchone()
    if row is None:
        raise DeviceNotFound(device_id)
    return DeviceRow(*row)


def list_devices(conn: Connection, *, vin: str | None, after: str | None, limit: int) -> list[DeviceRow]:
    """Devices by id, keyset-paged after a device id."""
    rows = conn.execute(
        f"""
        {_SELECT}
         WHERE (%(vin)s::text IS NULL OR vin = %(vin)s)
           AND (%(after)s::text IS NULL OR device_id > %(after)s)
         ORDER BY device_id
         LIMIT %(limit)s
        """,
        {"vin": vin, "after": after, "limit": limit},
    ).fetchall()
    return [DeviceRow(*row) for row in rows]


_CADENCE = ("moving_interval_s", "parked_interval_s", "scheduled_interval_s")
_INSERT = f"""
    INSERT INTO devices (device_id, kind, vin, {", ".join(_CADENCE)})
    VALUES (%(device_id)s, %(kind)s, %(vin)s, {", ".join(f"%({c})s" for c in _CADENCE)})
    ON CONFLICT (device_id) DO UPDATE
        SET kind = EXCLUDED.kind, active = true,
"""
# An installer's registration replaces the device; the loan system's keeps what it does not say.
_REPLACE = _INSERT + ", ".join(f"{c} = EXCLUDED.{c}" for c in ("vin", *_CADENCE)) + " RETURNING (xmax = 0)"
_MERGE = _INSERT + ", ".join(f"{c} = coalesce(EXCLUDED.{c}, devices.{c})" for c in ("vin", *_CADENCE))


def register_devices(conn: Connection, devices: Iterable[Device]) -> None:
    """Insert or update devices (a None keeps what is stored); a device's vehicle must exist first."""
    rows = [
        {
            "device_id": d.device_id,
            "kind": d.kind.value,
            "vin": d.vin,
            "moving_interval_s": d.moving_interval_s,
            "parked_interval_s": d.parked_interval_s,
            "scheduled_interval_s": d.scheduled_interval_s,
        }
        for d in devices
    ]
    with conn.cursor() as cur:
        cur.executemany(_MERGE, rows)


def known_device_ids(conn: Connection, among: Collection[str] | None = None) -> set[DeviceId]:
    """Ids of the active registered devices (only those among these ids, when given)."""
    if among is None:
        rows = conn.execute("SELECT device_id FROM devices WHERE active").fetchall()
    else:
        rows = conn.execute(
            "SELECT device_id FROM devices WHERE active AND device_id = ANY(%s)", (list(among),)
        ).fetchall()
    return {DeviceId(r[0]) for r in rows}


def all_devices(conn: Connection) -> dict[DeviceId, Device]:
    """Every active device with its vehicle and expected cadence."""
    rows = conn.execute(f"SELECT device_id, kind, vin, {', '.join(_CADENCE)} FROM devices WHERE active").fetchall()
    return {
        DeviceId(r[0]): Device(DeviceId(r[0]), DeviceKind(r[1]), Vin(r[2]) if r[2] else None, r[3], r[4], r[5])
        for r in rows
    }


def register(conn: Connection, device: dict[str, Any]) -> bool:
    """Insert or replace a device; True when new. Its vehicle, if named, must exist."""
    vehicles.require(conn, device.get("vin"))
    row = conn.execute(
        _REPLACE,
        device,
    ).fetchone()
    assert row is not None
    return bool(row[0])


def pair(conn: Connection, device_id: str, vin: str | None) -> None:
    """Fit a device to a vehicle (or take it off with None)."""
    vehicles.require(conn, vin)
    cur = conn.execute("UPDATE devices SET vin = %s WHERE device_id = %s", (vin, device_id))
    if cur.rowcount == 0:
        raise DeviceNotFound(device_id)


def set_cadence(
    conn: Connection, device_id: str, *, moving_s: int | None, parked_s: int | None, scheduled_s: int | None
) -> None:
    """Set the expected report intervals the offline detector judges silence against."""
    cur = conn.execute(
        """
        UPDATE devices
           SET moving_interval_s = %s, parked_interval_s = %s, scheduled_interval_s = %s
         WHERE device_id = %s
        """,
        (moving_s, parked_s, scheduled_s, device_id),
    )
    if cur.rowcount == 0:
        raise DeviceNotFound(device_id)


def log_command(
    conn: Connection,
    *,
    device_id: str,
    command: str,
    payload: dict[str, Any],
    actor: str,
    purpose: str,
    status: str,
    error: str | None,
) -> int:
    """Record a command sent (or failed to send) to a device; returns its id."""
    row = conn.execute(
        """
        INSERT INTO device_commands (device_id, command, payload, actor, purpose, status, error)
        VALUES (%s, %s, %s, %s, %s, %s, %s)
        RETURNING command_id
        """,
        (device_id, command, Jsonb(payload), actor, purpose, status, error),
    ).fetchone()
    assert row is not None
    return int(row[0])
