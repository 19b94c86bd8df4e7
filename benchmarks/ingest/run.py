"""Orchestrating `python -m benchmarks ingest`: each phase on a fresh private broker, same messages.

Drain: the ingestor's persistent session is created, the ingestor stopped, N messages queued
in the broker, then the ingestor started again; rate = N / (last commit − first receive).
Measuring the backlog isolates the ingestor from the publishers, which on 2 cores would
compete with it for the CPU. Live: publisher processes at full speed while it runs.
"""

import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import psycopg

from benchmarks.ingest import anchors, workload
from benchmarks.local_mosquitto import PrivateMosquitto
from domain.assets import Device, Vehicle
from domain.ids import DeviceId, Vin
from domain.vocabulary import DeviceKind
from storage import migrate
from storage.database import connect
from storage.devices import register_devices
from storage.migrate import TimescaleMode
from storage.vehicles import upsert_vehicles


@contextlib.contextmanager
def scratch_database(admin_url: str, *, timescale: TimescaleMode = "auto") -> Iterator[str]:
    """A new, migrated database on the server of `admin_url`, dropped afterwards."""
    name = f"lw_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = psycopg.conninfo.make_conninfo(admin_url, dbname=name)
    try:
        with connect(url, autocommit=True) as conn:
            migrate.migrate(conn, timescale=timescale)
        yield url
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def private_broker() -> Iterator[PrivateMosquitto]:
    with tempfile.TemporaryDirectory(prefix="lwbench-") as tmp:
        broker = PrivateMosquitto(Path(tmp))
        broker.start()
        try:
            yield broker
        finally:
            broker.stop()


class IngestSubprocess:
    """`python -m lienwatch ingest` with its peak RSS sampled."""

    def __init__(self, database_url: str, mqtt_url: str) -> None:
        env = {
            **os.environ,
            "LIENWATCH_DATABASE_URL": database_url,
            "LIENWATCH_MQTT_URL": mqtt_url,
            "LIENWATCH_MQTT_CLIENT_ID": "bench-ingest",
            "LIENWATCH_METRICS_PORT": "0",
            # The ingest benchmark measures ingest alone; the e2e benchmark turns the detectors on.
            "LIENWATCH_DETECTORS": os.environ.get("LIENWATCH_BENCH_DETECTORS", "false"),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lienwatch", "ingest"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.peak_rss = 0
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        proc = psutil.Process(self.process.pid)
        while not self._stop.is_set():
            with contextlib.suppress(psutil.Error):
                self.peak_rss = max(self.peak_rss, proc.memory_info().rss)
            time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(60)
        self._stop.set()
        self._sampler.join()


def _count(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM positions WHERE device_id LIKE 'bench-%%'").fetchone()
    return int(row[0]) if row else 0


def _wait_count(url: str, target: int, timeout: float) -> float:
    """Poll until `target` positions are stored; returns the time it was seen."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if _count(url) >= target:
            return time.perf_counter()
        time.sleep(0.05)
    raise TimeoutError(f"only {_count(url)} of {target} positions stored within {timeout}s")


def _register(url: str, devices: list[str]) -> None:
    with connect(url, autocommit=True) as conn, conn.transaction():
        upsert_vehicles(conn, [Vehicle(Vin(f"V{d[6:]}")) for d in devices])
        register_devices(conn, [Device(DeviceId(d), DeviceKind.WIRED, Vin(f"V{d[6:]}")) for d in devices])


def _create_session(db: str, mqtt: str, probe: list[tuple[str, bytes]]) -> None:
    """Start the ingestor until a probe is stored (so its session exists), then stop it."""
    ingest = IngestSubprocess(db, mqtt)
    try:
        deadline = time.monotonic() + 60
        while _count(db) < len(probe):
            if time.monotonic() > deadline:
                raise TimeoutError("ingestor never stored the probe")
            workload.publish_parallel(mqtt, probe, 1)
            time.sleep(0.3)
    finally:
        ingest.stop()


def run(
    *,
    admin_url: str,
    devices: int = 2000,
    per_device: int = 50,
    live_seconds: float = 10.0,
    publishers: int = 2,
    naive_messages: int = 5000,
) -> dict[str, Any]:
    """Every phase; returns the figures (see README, Performance)."""
    fleet = workload.device_ids(devices)
    start = workload.fleet_start(per_device * 8)
    backlog = workload.messages(fleet, per_device, start, offset=1)
    total = len(backlog)
    result: dict[str, Any] = {"messages": total, "devices": devices}

    with scratch_database(admin_url) as db:
        _register(db, fleet)
        with private_broker() as broker:
            _create_session(db, broker.url, workload.messages(fleet[:1], 1, start))
            result["publish_backlog_per_s"] = round(
                total / workload.publish_parallel(broker.url, backlog, publishers)[1]
            )
            ingest = IngestSubprocess(db, broker.url)
            try:
                done = _wait_count(db, total + 1, timeout=600)
                elapsed = time.perf_counter() - done
                with psycopg.connect(db) as conn:
                    first = conn.execute("SELECT min(received_at) FROM positions WHERE seq >= 1").fetchone()
                first_receive = first[0].timestamp() if first and first[0] else time.time()
                seconds = (time.time() - elapsed) - first_receive
                result["drain_positions_per_s"] = round(total / seconds)
                result["peak_rss_mb"] = round(ingest.peak_rss / 2**20, 1)

                # Live: the same ingestor keeps running while publisher processes go flat out.
                live = workload.messages(fleet, per_device * 4, start, offset=per_device + 1)
                before = _count(db)
                published, window = workload.publish_parallel(broker.url, live, publishers, seconds=live_seconds)
                during = _count(db) - before
                result["live_published_per_s"] = round(published / window)
                result["live_positions_per_s"] = round(during / window)
                _wait_count(db, before + published, timeout=600)
                result["peak_rss_mb"] = round(max(ingest.peak_rss / 2**20, result["peak_rss_mb"]), 1)
            finally:
                ingest.stop()

        with private_broker() as broker:
            anchors.bare_aiomqtt_subscribe(broker.url, "bench-bare")
            workload.publish_parallel(broker.url, backlog, publishers)
            result["bare_aiomqtt_per_s"] = round(anchors.bare_aiomqtt_drain(broker.url, "bench-bare", total))

        naive = backlog[: min(naive_messages, total)]
        with private_broker() as broker:
            anchors.naive_subscribe(broker.url, "bench-naive")
            workload.publish_parallel(broker.url, naive, publishers)
            result["naive_insert_per_s"] = round(anchors.naive_drain(broker.url, "bench-naive", db, len(naive)))

        result["copy_rows_per_s"] = round(anchors.copy_rate(db, backlog))
        with connect(db) as conn:
            result["layout"] = migrate.current_layout(conn)

    result["drain_vs_bare_aiomqtt"] = round(result["drain_positions_per_s"] / result["bare_aiomqtt_per_s"], 2)
    result["drain_vs_naive"] = round(result["drain_positions_per_s"] / result["naive_insert_per_s"], 1)
    return result
