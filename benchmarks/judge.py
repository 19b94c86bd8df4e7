"""The judge alone: a simulated fleet's decoded fixes replayed through alerts.replay with no
database and no broker, timed, at two batch sizes (the alerts must not differ)."""

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from alerts.replay import Pace, replay
from tests.support.fleet_replay import fleet, positions_of, world_of


def run(*, vehicles: int, days: int, seed: int) -> dict[str, Any]:
    """Fixes per second through the judge (motion, pairing, fences, sweeps, relocation grid)."""
    sim = fleet(vehicles, days, seed)
    world, loans, _ = world_of(sim)
    positions = positions_of(sim)
    end = datetime.fromtimestamp(sim.fleet.end, UTC)
    out: dict[str, Any] = {"vehicles": vehicles, "days": days, "fixes": len(positions)}
    books = []
    for batch in (500, 20_000):
        started = time.perf_counter()
        books.append(replay(positions, world, loans, end=end, pace=Pace(batch=batch)))
        elapsed = time.perf_counter() - started
        out[f"fixes_per_s_batch_{batch}"] = round(len(positions) / elapsed)
    # The relocation job (stay points over 30 days of nights, every 6 h) is most of that: without
    # its grid (it runs once, at the end) the rest is what the ingestor does per fix.
    started = time.perf_counter()
    replay(positions, world, loans, end=end, pace=Pace(batch=500, relocation_every=timedelta(days=3650)))
    out["fixes_per_s_without_relocation_grid"] = round(len(positions) / (time.perf_counter() - started))
    out["alerts"] = len(books[0].alerts)
    key = [[(a.loan_id, a.kind, a.subject, a.opened_at, a.closed_at) for a in b.alerts] for b in books]
    out["same_alerts_at_both_batch_sizes"] = sorted(map(str, key[0])) == sorted(map(str, key[1]))
    return out
