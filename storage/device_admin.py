"""Devices as installers administer them (register, pair, cadence) and the device command log."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from storage.database import Connection
from storage.errors import StorageError


class DeviceNotFound(StorageError, KeyError):
    """No device has this id."""


class VehicleNotFound(StorageError, KeyError):
    """No vehicle has this VIN."""


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


def _require_vehicle(conn: Connection, vin: str | None) -> None:
    if vin is not None and conn.execute("SELECT 1 FROM vehicles WHERE vin = %s", (vin,)).fetchone() is None:
        raise VehicleNotFound(vin)


def register(conn: Connection, device: dict[str, Any]) -> bool:
    """Insert or replace a device; True when new. Its vehicle, if named, must exist."""
    _require_vehicle(conn, device.get("vin"))
    row = conn.execute(
        """
        INSERT INTO devices (device_id, kind, vin, moving_interval_s, parked_interval_s, scheduled_interval_s)
        VALUES (%(device_id)s, %(kind)s, %(vin)s, %(moving_interval_s)s, %(parked_interval_s)s,
                %(scheduled_interval_s)s)
        ON CONFLICT (device_id) DO UPDATE
            SET kind = EXCLUDED.kind,
                vin = EXCLUDED.vin,
                moving_interval_s = EXCLUDED.moving_interval_s,
                parked_interval_s = EXCLUDED.parked_interval_s,
                scheduled_interval_s = EXCLUDED.scheduled_interval_s,
                active = true
        RETURNING (xmax = 0)
        """,
        device,
    ).fetchone()
    assert row is not None
    return bool(row[0])


def pair(conn: Connection, device_id: str, vin: str | None) -> None:
    """Fit a device to a vehicle (or take it off with None)."""
    _require_vehicle(conn, vin)
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
