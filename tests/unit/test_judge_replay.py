"""The judge replays a simulated fleet with no database: the alerts do not depend on how the
fixes were batched nor on how often the sweeps ran, and they find what the labels say."""

from datetime import UTC, datetime, timedelta
from functools import cache

import pytest

from alerts.book import AlertBook
from alerts.replay import Pace, replay
from simulators.evaluate import AlertRow, evaluate
from simulators.simulation import Simulation
from tests.support.fleet_replay import fleet, positions_of, world_of

VEHICLES, DAYS = 60, 5


@cache
def run(seed: int, batch: int, sweep_min: int) -> tuple[Simulation, AlertBook]:
    sim = fleet(VEHICLES, DAYS, seed)
    world, loans, _ = world_of(sim)
    positions = positions_of(sim)
    end = datetime.fromtimestamp(sim.fleet.end, UTC)
    pace = Pace(batch=batch or len(positions), sweep_every=timedelta(minutes=sweep_min))
    return sim, replay(positions, world, loans, end=end, pace=pace)


def facts(book: AlertBook) -> list[tuple[object, ...]]:
    rows = [
        (a.loan_id, a.kind, a.subject, a.opened_at, a.closed_at, a.close_reason, a.severity, str(a.evidence))
        for a in book.alerts
    ]
    return sorted(rows, key=str)


@pytest.mark.parametrize("seed", [7, 12])
def test_batch_sizes_and_sweep_pace_change_no_alert(seed: int) -> None:
    _, slow = run(seed, 200, 15)  # a message at a time, as at 1,000 msg/s
    _, flat_out = run(seed, 0, 15)  # the whole history in one batch
    _, rare_sweeps = run(seed, 5000, 24 * 60)
    assert facts(slow), "the fleet raised no alert"
    assert facts(flat_out) == facts(slow)
    assert facts(rare_sweeps) == facts(slow)


@pytest.mark.parametrize("seed", [7, 12])
def test_the_replay_finds_every_labelled_situation_and_nothing_else(seed: int) -> None:
    sim, book = run(seed, 200, 15)
    rows = [AlertRow(a.kind, a.loan_id, int(a.opened_at.timestamp())) for a in book.alerts]
    result = evaluate(sim.labels, rows, vehicles=VEHICLES, days=DAYS)
    missed = {k: s.fn for k, s in result.kinds.items() if s.fn}
    false = {k: s.fp for k, s in result.kinds.items() if s.fp}
    assert (missed, false, result.negatives_alerted) == ({}, {}, 0)
