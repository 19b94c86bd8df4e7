"""Vehicles: registered by VIN from the loan system, plate and model kept when a push omits them."""

from collections.abc import Iterable

from domain.assets import Vehicle
from storage.database import Connection
from storage.errors import StorageError


class VehicleNotFound(StorageError, KeyError):
    """No vehicle has this VIN."""


_UPSERT = """
    INSERT INTO vehicles (vin, plate, make_model) VALUES (%(vin)s, %(plate)s, %(make_model)s)
    ON CONFLICT (vin) DO UPDATE
        SET plate = coalesce(EXCLUDED.plate, vehicles.plate),
            make_model = coalesce(EXCLUDED.make_model, vehicles.make_model)
"""


def upsert_vehicles(conn: Connection, vehicles: Iterable[Vehicle]) -> None:
    """Insert or update vehicles by VIN."""
    with conn.cursor() as cur:
        cur.executemany(_UPSERT, [{"vin": v.vin, "plate": v.plate, "make_model": v.make_model} for v in vehicles])


def upsert_vehicle(conn: Connection, vin: str, *, plate: str | None, make_model: str | None) -> None:
    """Insert or update one vehicle by VIN (a None keeps what is stored)."""
    conn.execute(_UPSERT, {"vin": vin, "plate": plate, "make_model": make_model})


def unknown_vins(conn: Connection, vins: Iterable[str]) -> set[str]:
    """The VINs of these that name no vehicle."""
    wanted = sorted(set(vins))
    rows = conn.execute("SELECT vin FROM vehicles WHERE vin = ANY(%s)", (wanted,)).fetchall()
    return set(wanted) - {str(r[0]) for r in rows}


def require(conn: Connection, vin: str | None) -> None:
    """VehicleNotFound unless the VIN (when given) names a vehicle."""
    if vin is not None and conn.execute("SELECT 1 FROM vehicles WHERE vin = %s", (vin,)).fetchone() is None:
        raise VehicleNotFound(vin)
