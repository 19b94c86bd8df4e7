"""`python -m benchmarks scale`: throughput and memory from 1k to 100k devices; bytes per position.

Each step drains the same number of messages (default 100,000) spread over more devices, with
the detectors on, so the detector state grows with the fleet. Storage: the 1k-device positions
measured on the native layout and on TimescaleDB before and after compressing every chunk.
"""

import os
import time
from typing import Any

import psycopg

from benchmarks.ingest import workload
from benchmarks.ingest.run import IngestSubprocess, private_broker, scratch_database
from domain.assets import Device, Vehicle
from domain.ids import DeviceId, Vin
from domain.vocabulary import DeviceKind
from storage.database import connect
from storage.devices import register_devices
from storage.migrate import TimescaleMode
from storage.vehicles import upsert_vehicles


def _register(db: str, devices: list[str]) -> None:
    with connect(db, autocommit=True) as conn, conn.transaction():
        upsert_vehicles(conn, [Vehicle(Vin(f"S{d[6:]}")) for d in devices])
        register_devices(conn, [Device(DeviceId(d), DeviceKind.WIRED, Vin(f"S{d[6:]}")) for d in devices])


def _count(db: str) -> int:
    with psycopg.connect(db) as conn:
        row = conn.execute("SELECT count(*) FROM positions").fetchone()
    return int(row[0]) if row else 0


def _drain(admin_url: str, devices: int, messages: int, timescale: TimescaleMode) -> dict[str, float]:
    fleet = workload.device_ids(devices)
    per_device = max(1, messages // devices)
    backlog = workload.messages(fleet, per_device, workload.fleet_start(per_device * 8))
    with scratch_database(admin_url, timescale=timescale) as db, private_broker() as broker:
        _register(db, fleet)
        ingest = IngestSubprocess(db, broker.url)
        while _count(db) < 1:
            workload.publish_parallel(broker.url, backlog[:1], 1)
            time.sleep(0.3)
        ingest.stop()
        workload.publish_parallel(broker.url, backlog, 2)
        ingest = IngestSubprocess(db, broker.url)
        started = time.perf_counter()
        try:
            while _count(db) < len(backlog):
                time.sleep(0.05)
            seconds = time.perf_counter() - started
        finally:
            ingest.stop()
        sizes = _bytes_per_position(db, timescale)
    return {"positions_per_s": len(backlog) / seconds, "peak_rss_mb": ingest.peak_rss / 2**20, **sizes}


def _bytes_per_position(db: str, timescale: TimescaleMode) -> dict[str, float]:
    with connect(db, autocommit=True) as conn:
        rows = _count(db)
        if timescale == "off":
            size = conn.execute(
                "SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits WHERE inhparent = 'positions'::regclass"
            ).fetchone()
            return {"bytes_per_position_native": float(size[0]) / rows if size and size[0] else 0.0}
        before = conn.execute("SELECT hypertable_size('positions')").fetchone()
        conn.execute("SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('positions') c")
        after = conn.execute("SELECT hypertable_size('positions')").fetchone()
        return {
            "bytes_per_position_timescale": float(before[0]) / rows if before else 0.0,
            "bytes_per_position_compressed": float(after[0]) / rows if after else 0.0,
        }


def run(
    *, admin_url: str, messages: int = 100_000, fleets: tuple[int, ...] = (1_000, 10_000, 100_000)
) -> dict[str, Any]:
    """Every step; returns the figures."""
    os.environ["LIENWATCH_BENCH_DETECTORS"] = "true"
    result: dict[str, Any] = {"messages": messages}
    try:
        for devices in fleets:
            step = _drain(admin_url, devices, messages, "auto")
            result[f"devices_{devices}"] = {k: round(v, 1) for k, v in step.items()}
        native = _drain(admin_url, fleets[0], messages, "off")
        result["bytes_per_position_native"] = round(native["bytes_per_position_native"], 1)
    finally:
        os.environ.pop("LIENWATCH_BENCH_DETECTORS", None)
    return result
