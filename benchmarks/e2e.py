"""`python -m benchmarks e2e`: the whole pipeline with every detector on, beside ingest alone.

Drain: a simulated fleet's messages (with scenarios, loans, risk zones and regions) queued in a
private Mosquitto while the ingestor is down, then drained — once with the detectors on and once
with them off, on fresh databases; the rate is timed from the first batch stored to the last, and
the restart's startup reported beside it. The scheduler's jobs over the drained fleet (one absence
sweep, one relocation run) are timed on their own, as they run in `lienwatch scheduler`.
Latency: with the ingestor running and a background load published at a steady rate, probe
trackers each report a power cut; the time from publishing the probe to its alert row being
committed (what the API reads) is recorded.
"""

import contextlib
import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import orjson
import psycopg

from benchmarks.ingest import anchors, workload
from benchmarks.ingest.run import IngestSubprocess, private_broker, scratch_database
from domain.assets import Device, Loan, Vehicle
from domain.ids import DeviceId, LoanId, Vin
from domain.vocabulary import DeviceKind
from ingest.detectors import DetectorSink
from lienwatch import fleetrun
from lienwatch.settings import Settings
from simulators.payloads import Message
from simulators.publish import load, publish
from simulators.simulation import SimConfig, default_start, simulate
from storage.database import connect
from storage.devices import register_devices
from storage.loans import upsert_loans
from storage.vehicles import upsert_vehicles


@contextlib.contextmanager
def _detectors(on: bool) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in ("LIENWATCH_BENCH_DETECTORS", "LIENWATCH_SWEEP_CLOCK")}
    os.environ["LIENWATCH_BENCH_DETECTORS"] = "true" if on else "false"
    # As deployed: the absence sweeps and the relocation job run on wall time in `lienwatch
    # scheduler`, not in the ingestor. On the event-time clock a drain of one simulated day would
    # run a day's worth of them inside 20 s of ingest (the relocation job was a third of it).
    os.environ["LIENWATCH_SWEEP_CLOCK"] = "wall"
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _as_messages(pairs: list[tuple[str, bytes]]) -> list[Message]:
    return [Message(i, topic, payload) for i, (topic, payload) in enumerate(pairs)]


def _stored(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM positions").fetchone()
    return int(row[0]) if row else 0


def _drain(admin_url: str, sim: Any, messages: list[Any], *, detectors: bool) -> dict[str, float]:
    """Queue the fleet's messages for a stopped ingestor, then time the drain."""
    with scratch_database(admin_url) as db, private_broker() as broker, _detectors(detectors):
        fleetrun.seed(db, sim)
        first = messages[:1]
        ingest = IngestSubprocess(db, broker.url)
        while _stored(db) < 1:
            publish(broker.url, first)
            time.sleep(0.3)
        ingest.stop()
        publish(broker.url, messages[1:])
        ingest = IngestSubprocess(db, broker.url)
        started = time.perf_counter()
        try:
            while (stored := _stored(db)) <= 1:
                time.sleep(0.01)
            # The rate is timed from the first batch stored to the last: what the ingestor sustains.
            # Startup (imports, connections, loading registry, fences and detector state) is its own
            # figure: it is paid once per restart, not per position.
            at_first, first_at = stored, time.perf_counter()
            while _stored(db) < len(messages):
                time.sleep(0.05)
            finished = time.perf_counter()
        finally:
            ingest.stop()
        with psycopg.connect(db) as conn:
            alerts = conn.execute("SELECT count(*) FROM alerts").fetchone()
        figures = {
            "positions_per_s": (len(messages) - at_first) / (finished - first_at),
            "startup_s": first_at - started,
            "peak_rss_mb": ingest.peak_rss / 2**20,
            "alerts": float(alerts[0]) if alerts else 0.0,
        }
        return figures | (_scheduled_jobs(db) if detectors else {})


def _scheduled_jobs(db: str) -> dict[str, float]:
    """What `lienwatch scheduler` spends on this fleet: one absence sweep, one relocation run."""
    pipeline = DetectorSink(database_url=db)
    with connect(db, autocommit=True) as conn:
        pipeline.refresh(conn, force=True)
        now = datetime.now(UTC)
        started = time.perf_counter()
        pipeline.sweep(conn, now)
        swept = time.perf_counter()
        pipeline.relocation_sweep(conn, now)
        relocated = time.perf_counter()
    return {"absence_sweep_s": swept - started, "relocation_job_s": relocated - swept}


def _probe_devices(db: str, count: int) -> list[str]:
    ids = [f"probe-{uuid.uuid4().hex[:10]}" for _ in range(count)]
    with connect(db, autocommit=True) as conn, conn.transaction():
        upsert_vehicles(conn, [Vehicle(Vin(f"P{d[6:]}")) for d in ids])
        register_devices(conn, [Device(DeviceId(d), DeviceKind.WIRED, Vin(f"P{d[6:]}")) for d in ids])
        upsert_loans(
            conn,
            [
                Loan(LoanId(f"LP-{d}"), Vin(f"P{d[6:]}"), days_past_due=60, outstanding_balance=Decimal(90000))
                for d in ids
            ],
        )
    return ids


def _latency(admin_url: str, *, rate: float, seconds: float, probes: int) -> dict[str, float]:
    """Alert latency under a steady background load of `rate` msgs/s."""
    fleet = workload.device_ids(2000)
    per_device = int(rate * seconds / len(fleet)) + 1
    background = _as_messages(workload.messages(fleet, per_device, workload.fleet_start(per_device * 8)))
    with scratch_database(admin_url) as db, private_broker() as broker:
        with connect(db, autocommit=True) as conn, conn.transaction():
            upsert_vehicles(conn, [Vehicle(Vin(f"V{d[6:]}")) for d in fleet])
            register_devices(conn, [Device(DeviceId(d), DeviceKind.WIRED, Vin(f"V{d[6:]}")) for d in fleet])
        probe_ids = _probe_devices(db, probes)
        os.environ["LIENWATCH_BENCH_DETECTORS"] = "true"
        try:
            ingest = IngestSubprocess(db, broker.url)
        finally:
            os.environ.pop("LIENWATCH_BENCH_DETECTORS", None)
        try:
            warm = _as_messages(workload.messages(fleet[:1], 1, workload.fleet_start(1)))
            while _stored(db) < 1:
                publish(broker.url, warm)
                time.sleep(0.3)
            loader = threading.Thread(target=load, args=(broker.url, background), kwargs={"processes": 2, "rate": rate})
            loader.start()
            time.sleep(2.0)  # let the load settle
            published: dict[str, float] = {}
            seen: dict[str, float] = {}
            done = threading.Event()

            def watch() -> None:  # polls while the probes go out: an alert is seen within ~10 ms
                with psycopg.connect(db, autocommit=True) as conn:
                    while not done.is_set():
                        rows = conn.execute(
                            "SELECT loan_id FROM alerts WHERE kind = 'power_cut' AND loan_id LIKE 'LP-%%'"
                        ).fetchall()
                        now = time.time()
                        for (loan_id,) in rows:
                            seen.setdefault(loan_id, now)
                        time.sleep(0.01)

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            for device in probe_ids:
                body = {
                    "ts": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                    "lat": 31.23,
                    "lon": 121.47,
                    "accuracy_m": 8,
                    "alarms": ["power_cut"],
                }
                published[f"LP-{device}"] = time.time()
                publish(broker.url, [Message(0, f"trackers/{device}/position", orjson.dumps(body))])
                time.sleep(seconds / probes / 2)
            deadline = time.time() + 60
            while len(seen) < len(published) and time.time() < deadline:
                time.sleep(0.05)
            done.set()
            watcher.join(5)
            loader.join(300)
        finally:
            ingest.stop()
    latencies = np.array([seen[k] - published[k] for k in seen]) * 1000
    return {
        "alert_latency_p50_ms": float(np.percentile(latencies, 50)) if len(latencies) else float("nan"),
        "alert_latency_p99_ms": float(np.percentile(latencies, 99)) if len(latencies) else float("nan"),
        "probes": float(probes),
        "probes_alerted": float(len(seen)),
    }


def run(
    *,
    admin_url: str,
    vehicles: int = 500,
    days: int = 1,
    rate: float = 5000.0,
    latency_seconds: float = 20.0,
    probes: int = 100,
) -> dict[str, Any]:
    """Every phase; returns the figures (see README, Performance)."""
    sim = simulate(SimConfig(vehicles, days, 11, default_start(days, datetime.now(UTC)), "all"))
    messages = list(sim.messages())
    result: dict[str, Any] = {"messages": len(messages), "vehicles": vehicles, "days": days}
    on = _drain(admin_url, sim, messages, detectors=True)
    off = _drain(admin_url, sim, messages, detectors=False)
    result["drain_detectors_on_per_s"] = round(on["positions_per_s"])
    result["drain_detectors_off_per_s"] = round(off["positions_per_s"])
    result["detectors_on_vs_off"] = round(on["positions_per_s"] / off["positions_per_s"], 2)
    result["ingest_startup_on_s"] = round(on["startup_s"], 2)
    result["ingest_startup_off_s"] = round(off["startup_s"], 2)
    result["scheduler_absence_sweep_s"] = round(on["absence_sweep_s"], 2)
    result["scheduler_relocation_job_s"] = round(on["relocation_job_s"], 2)
    result["alerts_opened"] = int(on["alerts"])
    result["peak_rss_mb"] = round(max(on["peak_rss_mb"], off["peak_rss_mb"]), 1)
    result.update(
        {k: round(v, 1) for k, v in _latency(admin_url, rate=rate, seconds=latency_seconds, probes=probes).items()}
    )
    result["latency_load_rate_per_s"] = rate
    # Anchors on the same messages, as in the ingest benchmark.
    with private_broker() as broker:
        anchors.bare_aiomqtt_subscribe(broker.url, "e2e-bare")
        publish(broker.url, messages)
        result["bare_aiomqtt_per_s"] = round(anchors.bare_aiomqtt_drain(broker.url, "e2e-bare", len(messages)))
    with scratch_database(admin_url) as db:
        result["copy_rows_per_s"] = round(anchors.copy_rate(db, [(m.topic, m.payload) for m in messages]))
        naive = messages[:3000]
        with private_broker() as broker:
            anchors.naive_subscribe(broker.url, "e2e-naive")
            publish(broker.url, naive)
            fleetrun.prepare(db, Settings(database_url=db))
            result["naive_insert_per_s"] = round(anchors.naive_drain(broker.url, "e2e-naive", db, len(naive)))
    result["drain_vs_naive"] = round(result["drain_detectors_on_per_s"] / result["naive_insert_per_s"], 1)
    return result
