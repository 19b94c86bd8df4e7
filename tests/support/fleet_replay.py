"""A simulated fleet as the judge sees it, with no broker and no database: its world, its loans, and
its messages decoded in publish order, as the ingestor would have stored them."""

import dataclasses
from datetime import UTC, datetime, timedelta

from alerts.judge import World
from alerts.thresholds import Policy
from domain.assets import Loan
from domain.ids import FenceId, Vin
from domain.position import Position
from ingest.decode import Limits, decode
from simulators.seed import fleet_fences
from simulators.simulation import SimConfig, Simulation, simulate

FIRST_FENCE_ID = 1


def fleet(vehicles: int, days: int, seed: int, *, id_prefix: str = "sim") -> Simulation:
    """The simulated fleet over `days` ending an hour ago."""
    start = (datetime.now(UTC) - timedelta(days=days, hours=1)).replace(minute=0, second=0, microsecond=0)
    return simulate(SimConfig(vehicles, days, seed, start, id_prefix=id_prefix))


def world_of(sim: Simulation, policy: Policy | None = None) -> tuple[World, dict[Vin, Loan], dict[str, str]]:
    """The judge's world and loans for this fleet, and each fence id's name (subjects of fence alerts)."""
    fences = [
        dataclasses.replace(f, fence_id=FenceId(FIRST_FENCE_ID + i)) for i, f in enumerate(fleet_fences(sim.fleet))
    ]
    devices = {d.device_id: d for d in sim.fleet.devices()}
    loans = {loan.vin: loan for loan in sim.fleet.loans()}
    world = World.build(devices, fences, loans, policy or Policy())
    return world, loans, {str(int(f.fence_id)): f.name for f in fences}


def positions_of(sim: Simulation) -> list[Position]:
    """Every message decoded, in publish order (what the ingestor stores)."""
    received = datetime.now(UTC)
    out: list[Position] = []
    for message in sim.messages():
        out += decode(message.topic, message.payload, received, Limits()).positions
    return out
