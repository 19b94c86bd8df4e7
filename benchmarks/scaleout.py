"""`python -m benchmarks scaleout`: drain rate of 1, 2 and 4 partitioned workers beside one plain ingestor.

A simulated fleet (every scenario, loans, risk zones, regions) with the detectors on, on wall
time as deployed (no sweep falls inside a drain). The plain ingestor drains the fleet queued in
a private Mosquitto for its persistent session (`lienwatch ingest`, as in the e2e benchmark).
For the partitioned runs the fleet is routed once into a private NATS JetStream by `lienwatch
router`; then, for each worker count, a fresh database and N `lienwatch worker` processes drain
the stream from its first message. Each rate counts from the first position stored to the last
(startup is reported beside it: joining, claiming partitions, loading state), so the figures
compare what the workers sustain. Every process shares this machine's cores with PostgreSQL,
NATS and the others: on 2 cores N workers cannot go faster than the cores allow.
"""

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
import orjson
import psycopg

from benchmarks.e2e import _detectors
from benchmarks.ingest.run import IngestSubprocess, private_broker, scratch_database
from benchmarks.local_nats import PrivateNats
from lienwatch import fleetrun
from simulators.publish import publish
from simulators.simulation import SimConfig, default_start, simulate

PARTITIONS = 16


def _stored(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM positions").fetchone()
    return int(row[0]) if row else 0


def _env(**values: object) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENWATCH_")}
    env.update({f"LIENWATCH_{k.upper()}": str(v) for k, v in values.items()})
    return env


def _spawn(args: list[str], log: Path, **env: object) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "lienwatch", *args], env=_env(**env), stdout=out, stderr=out)


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for p in processes:
        p.terminate()
    for p in processes:
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)


def _timed_drain(db: str, total: int, started: float, timeout: float = 900.0) -> dict[str, float]:
    deadline = time.perf_counter() + timeout
    while (stored := _stored(db)) < 1:
        if time.perf_counter() > deadline:
            raise TimeoutError("nothing stored")
        time.sleep(0.01)
    at_first, first_at = stored, time.perf_counter()
    while _stored(db) < total:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{_stored(db)} of {total} stored")
        time.sleep(0.05)
    finished = time.perf_counter()
    with psycopg.connect(db) as conn:
        alerts = conn.execute("SELECT count(*) FROM alerts").fetchone()
    return {
        "positions_per_s": round((total - at_first) / (finished - first_at), 1),
        "startup_s": round(first_at - started, 2),
        "alerts": float(alerts[0]) if alerts else 0.0,
    }


def _plain(admin_url: str, sim: Any, messages: list[Any], total: int) -> dict[str, float]:
    """One `lienwatch ingest` process draining the fleet queued for its session."""
    with scratch_database(admin_url, timescale="off") as db, private_broker() as broker, _detectors(True):
        fleetrun.seed(db, sim)
        ingest = IngestSubprocess(db, broker.url)
        while _stored(db) < 1:
            publish(broker.url, messages[:1])
            time.sleep(0.3)
        ingest.stop()
        publish(broker.url, messages[1:])
        started = time.perf_counter()
        ingest = IngestSubprocess(db, broker.url)
        try:
            return _timed_drain(db, total, started)
        finally:
            ingest.stop()


def _route_once(admin_url: str, sim: Any, messages: list[Any], nats: PrivateNats, logdir: Path) -> None:
    """The fleet through `lienwatch router` into the stream (the workers' backlog)."""
    with scratch_database(admin_url, timescale="off") as db, private_broker() as broker:
        fleetrun.seed(db, sim)  # the router reads the device → vehicle map
        router = _spawn(
            ["router", "--client-id", "bench-router"],
            logdir / "router.log",
            database_url=db,
            mqtt_url=broker.url,
            nats_url=nats.url,
            partitions=PARTITIONS,
        )
        try:
            log = logdir / "router.log"
            deadline = time.monotonic() + 60
            while "connected to MQTT broker" not in (log.read_text(errors="replace") if log.exists() else ""):
                if time.monotonic() > deadline or router.poll() is not None:
                    raise RuntimeError(f"router did not start; see {log}")
                time.sleep(0.1)
            publish(broker.url, messages)
            while _stream_messages(nats.url) < len(messages):
                time.sleep(0.2)
        finally:
            _stop([router])


def _stream_messages(nats_url: str) -> int:
    async def read() -> int:
        nc = await nats.connect(nats_url)
        try:
            return int((await nc.jetstream().stream_info("LIENWATCH_POS")).state.messages)
        except nats.js.errors.NotFoundError:
            return 0
        finally:
            await nc.close()

    return asyncio.run(read())


def _workers(admin_url: str, sim: Any, total: int, nats: PrivateNats, n: int, logdir: Path) -> dict[str, float]:
    with scratch_database(admin_url, timescale="off") as db:
        fleetrun.seed(db, sim)
        started = time.perf_counter()
        workers = [
            _spawn(
                ["worker", "--worker-id", f"bench-{n}-{i}"],
                logdir / f"workers{n}-{i}.log",
                database_url=db,
                nats_url=nats.url,
                partitions=PARTITIONS,
                metrics_port=0,
            )
            for i in range(n)
        ]
        try:
            return _timed_drain(db, total, started)
        finally:
            _stop(workers)


@contextlib.contextmanager
def _private_nats() -> Iterator[tuple[PrivateNats, Path]]:
    with tempfile.TemporaryDirectory(prefix="lwbench-nats-") as tmp:
        server = PrivateNats(Path(tmp) / "nats")
        server.start()
        try:
            yield server, Path(tmp)
        finally:
            server.stop()


def run(*, admin_url: str, vehicles: int, days: int, counts: tuple[int, ...] = (1, 2, 4)) -> dict[str, Any]:
    """Drain rates: one plain ingestor, then the partitioned workers at each count."""
    sim = simulate(SimConfig(vehicles, days, 7, default_start(days, datetime.now(UTC)), "all"))
    messages = list(sim.messages())
    total = _count_fixes(messages)
    result: dict[str, Any] = {"messages": len(messages), "positions": total, "cpus": os.cpu_count()}
    plain = _plain(admin_url, sim, messages, total)
    result["plain_ingest_positions_per_s"] = plain["positions_per_s"]
    result["plain_ingest_alerts"] = plain["alerts"]
    with _private_nats() as (nats, logdir):
        _route_once(admin_url, sim, messages, nats, logdir)
        for n in counts:
            figures = _workers(admin_url, sim, total, nats, n, logdir)
            result[f"workers_{n}_positions_per_s"] = figures["positions_per_s"]
            result[f"workers_{n}_startup_s"] = figures["startup_s"]
            result[f"workers_{n}_alerts"] = figures["alerts"]
    return result


def _count_fixes(messages: list[Any]) -> int:
    total = 0
    for m in messages:
        body = orjson.loads(m.payload)
        total += len(body) if isinstance(body, list) else 1
    return total
