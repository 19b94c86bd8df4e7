"""Writing a simulated fleet's vehicles, devices and loans through the project's storage layer."""

import logging

from simulators.fleet import Fleet
from storage import registry
from storage.database import Connection

log = logging.getLogger(__name__)


def seed_fleet(conn: Connection, fleet: Fleet) -> tuple[int, int, int]:
    """Upsert the fleet's vehicles, devices and loans in one transaction; returns their counts.

    Fences are not written here: the risk zones and regions are exposed as GeoJSON by
    simulators.cities for the fence storage layer.
    """
    vehicles, devices, loans = fleet.vehicles(), fleet.devices(), fleet.loans()
    with conn.transaction():
        registry.upsert_vehicles(conn, vehicles)
        registry.register_devices(conn, devices)
        registry.upsert_loans(conn, loans)
    log.info(
        "seeded %d vehicles, %d devices, %d loans (prefix %s)", len(vehicles), len(devices), len(loans), fleet.id_prefix
    )
    return len(vehicles), len(devices), len(loans)
