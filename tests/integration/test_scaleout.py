"""Scale-out gives the alerts of one process: the same simulated fleet through 1, 2 and 4
partitioned workers (and through 3 with one SIGKILLed mid-stream) stores the same positions and
raises the same alerts, none twice, with the same times and evidence.

Each run is the whole deployed path as separate processes: the fleet publishes MQTT QoS 1 to a
private Mosquitto, `lienwatch router` routes it into a private NATS JetStream by vehicle, and N
`lienwatch worker`s own the 16 partitions, on the event-time clock (as in simulation). After the
drain the end of the run is swept once, as `lienwatch.fleetrun` does.

What is compared: every alert's (loan, kind, subject, opened_at, evidence) and status, exactly,
but for two evidence fields a sweep measures at the instant it runs (a sweep runs when a worker's
partition clock has moved on 15 simulated minutes, i.e. at batch boundaries, in one process as in
many): `stopped_h` of a long idle (how long the car had stood when the sweep looked) and
`occurrences` of a relocation or long idle (how many runs refreshed it). Offline alerts are dated
at the crossing and relocation runs on a fixed grid, so their times are compared exactly.
"""

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from benchmarks.local_mosquitto import PrivateMosquitto
from benchmarks.local_nats import PrivateNats
from lienwatch import fleetrun
from simulators.payloads import Message
from simulators.publish import publish
from simulators.simulation import SimConfig, Simulation, default_start, simulate
from storage import migrate
from tests.conftest import create_database, drop_database
from tests.support.scaleout_harness import (
    Cluster,
    Outcome,
    drained,
    final_sweep,
    fixes_in,
    outcome,
    stored_positions,
    wait_until,
)

pytestmark = [pytest.mark.db, pytest.mark.mqtt, pytest.mark.slow]

PARTITIONS = 16
DRAIN_TIMEOUT_S = 150


@dataclass(frozen=True)
class Fleet:
    sim: Simulation
    messages: list[Message]
    fixes: int


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    # 26 cars over 4 days with every scenario (long idle needs 4 days), fixed in time.
    sim = simulate(SimConfig(26, 4, 11, default_start(4, datetime(2026, 11, 20, tzinfo=UTC)), "all"))
    messages = list(sim.messages())
    return Fleet(sim, messages, fixes_in(messages))


def run_fleet(
    workdir: Path, fleet: Fleet, workers: int, *, kill: str | None = None
) -> tuple[Outcome, dict[str, object]]:
    """The fleet through a router and `workers` workers; with `kill`, that worker is SIGKILLed
    once 40 % of the fixes are stored. Returns the outcome and what happened on the way."""
    db = create_database("lw_scale")
    broker = PrivateMosquitto(workdir / "mosquitto")
    nats = PrivateNats(workdir / "nats")
    cluster = Cluster(db, "", "", workdir / "logs", partitions=PARTITIONS, lease_s=4.0)
    notes: dict[str, object] = {}
    try:
        with psycopg.connect(db, autocommit=True) as conn:
            migrate.migrate(conn, timescale="off")
        fleetrun.seed(db, fleet.sim)
        broker.start()
        nats.start()
        cluster.mqtt_url, cluster.nats_url = broker.url, nats.url
        cluster.start_router()
        for n in range(workers):
            cluster.start_worker(f"w{n}")
        cluster.wait_ready()
        publisher = threading.Thread(target=publish, args=(broker.url, fleet.messages))
        publisher.start()
        if kill is not None:
            assert wait_until(lambda: stored_positions(db) > fleet.fixes * 0.4, DRAIN_TIMEOUT_S, 0.1)
            with psycopg.connect(db) as conn:
                held = conn.execute("SELECT partition FROM stream_partitions WHERE owner = %s", (kill,)).fetchall()
            notes["killed_partitions"] = sorted(r[0] for r in held)
            notes["stored_at_kill"] = stored_positions(db)
            cluster.kill_worker(kill)
        publisher.join(DRAIN_TIMEOUT_S)
        assert wait_until(lambda: drained(db, nats.url, PARTITIONS, fleet.fixes), DRAIN_TIMEOUT_S), (
            f"not drained: {stored_positions(db)} of {fleet.fixes} fixes stored; logs in {workdir / 'logs'}"
        )
        assert cluster.alive(), f"a process died; logs in {workdir / 'logs'}"
        with psycopg.connect(db) as conn:
            notes["owners"] = dict(conn.execute("SELECT partition, owner FROM stream_partitions").fetchall())
            notes["epochs"] = dict(conn.execute("SELECT partition, epoch FROM stream_partitions").fetchall())
        cluster.stop()
        final_sweep(db, datetime.fromtimestamp(fleet.sim.fleet.end, UTC))
        return outcome(db), notes
    finally:
        cluster.stop()
        nats.stop()
        broker.stop()
        drop_database(db)


@pytest.fixture(scope="module")
def reference(fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    """One worker: every partition, every vehicle, in one process."""
    result, _ = run_fleet(tmp_path_factory.mktemp("one-worker"), fleet, 1)
    print(f"1 worker: {len(result.alerts)} alerts {result.by_kind()}, {result.positions} positions")
    return result


def _assert_same(got: Outcome, want: Outcome) -> None:
    for alert in sorted(got.alerts ^ want.alerts):  # what the comparison below leaves out, if anything
        print("differs (sweep-timed fields included):", alert[:4], alert[4][:400])
    assert got.positions == want.positions
    assert got.positions_digest == want.positions_digest
    assert got.quarantined == want.quarantined == 0
    assert got.exact() == want.exact(), f"alerts differ: {sorted(got.exact() ^ want.exact())}"
    assert got.statuses == want.statuses
    assert got.by_kind() == want.by_kind()
    assert got.opened_events == want.opened_events == len(want.alerts)  # none opened twice


def test_one_worker_sees_the_whole_fleet(reference: Outcome, fleet: Fleet) -> None:
    assert reference.positions == fleet.fixes
    # The fleet's scenarios: a comparison over an empty or one-sided set would prove nothing.
    assert {"device_separation", "gps_jump", "offline", "long_idle", "relocation", "region_exit", "tow"} <= set(
        reference.by_kind()
    )


@pytest.mark.parametrize("workers", [2, 4])
def test_n_workers_raise_the_alerts_of_one(workers: int, reference: Outcome, fleet: Fleet, tmp_path: Path) -> None:
    got, notes = run_fleet(tmp_path, fleet, workers)
    print(f"{workers} workers: {len(got.alerts)} alerts {got.by_kind()}, {got.positions} positions")
    owners = set(notes["owners"].values())  # type: ignore[attr-defined]
    assert owners == {f"w{n}" for n in range(workers)}, "every worker owned some partition"
    _assert_same(got, reference)


def test_a_worker_killed_mid_stream_loses_and_doubles_nothing(reference: Outcome, fleet: Fleet, tmp_path: Path) -> None:
    got, notes = run_fleet(tmp_path, fleet, 3, kill="w1")
    print(
        f"3 workers, w1 killed at {notes['stored_at_kill']} positions holding {notes['killed_partitions']}: "
        f"{len(got.alerts)} alerts {got.by_kind()}, {got.positions} positions"
    )
    killed = notes["killed_partitions"]
    assert killed, "the killed worker held partitions"
    assert int(notes["stored_at_kill"]) < fleet.fixes  # type: ignore[call-overload]
    owners: dict[int, str] = notes["owners"]  # type: ignore[assignment]
    epochs: dict[int, int] = notes["epochs"]  # type: ignore[assignment]
    for partition in killed:  # type: ignore[attr-defined]
        assert owners[partition] in {"w0", "w2"}, f"partition {partition} was taken over"
        assert epochs[partition] >= 2
    _assert_same(got, reference)
