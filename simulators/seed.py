"""Writing a simulated fleet's vehicles, devices and loans through the project's storage layer."""

import dataclasses
import logging

from domain.ids import FenceId, LoanId
from geofence.fence import Fence
from simulators.cities import region_features, risk_zone_features
from simulators.fleet import Fleet
from storage.database import Connection
from storage.devices import register_devices
from storage.loans import upsert_loans
from storage.vehicles import upsert_vehicles

log = logging.getLogger(__name__)


def seed_fleet(conn: Connection, fleet: Fleet) -> tuple[int, int, int]:
    """Upsert the fleet's vehicles, devices and loans in one transaction; returns their counts.

    Fences are not written here: the risk zones and regions are exposed as GeoJSON by
    simulators.cities for the fence storage layer.
    """
    vehicles, devices, loans = fleet.vehicles(), fleet.devices(), fleet.loans()
    with conn.transaction():
        upsert_vehicles(conn, vehicles)
        register_devices(conn, devices)
        upsert_loans(conn, loans)
    log.info(
        "seeded %d vehicles, %d devices, %d loans (prefix %s)", len(vehicles), len(devices), len(loans), fleet.id_prefix
    )
    return len(vehicles), len(devices), len(loans)


def fleet_fences(fleet: Fleet) -> list[Fence]:
    """The fences a simulated fleet runs against (no ids yet): the shared risk-zone base, and
    each bound region as an allowed_region fence of the loans bound to it, named for the fleet."""
    out = [Fence.from_feature(feature, fence_id=FenceId(0)) for feature in risk_zone_features()]
    by_region: dict[str, set[LoanId]] = {}
    for loan in fleet.loans():
        if loan.bound_region:
            by_region.setdefault(loan.bound_region, set()).add(loan.loan_id)
    for feature in region_features():
        loans = by_region.get(feature["properties"]["region_id"])
        if not loans:
            continue
        name = f"{feature['properties']['name']} ({fleet.id_prefix})"
        named = {**feature, "properties": {**feature["properties"], "name": name}}
        fence = Fence.from_feature(named, fence_id=FenceId(0))
        out.append(dataclasses.replace(fence, is_global=False, loan_ids=frozenset(loans)))
    return out
