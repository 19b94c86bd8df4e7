"""A simulated fleet through the whole pipeline: seed, publish, ingest, detect, sweep.

Used by `lienwatch demo`, by the end-to-end evaluation test and by `python -m benchmarks e2e`. The
detectors' sweeps run on the event-time watermark, so days of fleet life take minutes and give
the alerts they would in real time.
"""

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ingest import runner
from ingest.detectors import DetectorSink
from lienwatch import wiring
from lienwatch.scheduler import maintain_positions
from lienwatch.settings import Settings
from simulators.labels import iso, write_labels, write_meta
from simulators.messy import Messiness
from simulators.publish import publish
from simulators.seed import fleet_fences, seed_fleet
from simulators.simulation import SimConfig, Simulation, default_start, simulate
from storage import fences, migrate
from storage.database import connect

log = logging.getLogger(__name__)


@dataclass
class FleetRun:
    simulation: Simulation
    published: int
    stored: int
    publish_s: float
    drain_s: float


def prepare(database_url: str, settings: Settings) -> None:
    """Migrate and maintain the positions store."""
    with connect(database_url, autocommit=True) as conn:
        migrate.migrate(conn, timescale=settings.timescale)
    maintain_positions(settings, database_url)


def write_run(path: Path, config: SimConfig, sim: Simulation) -> None:
    """The run's labels, and beside them its description, which `lienwatch evaluate` reads."""
    write_labels(path, sim.labels)
    description = {
        "vehicles": config.vehicles,
        "days": config.days,
        "seed": config.seed,
        "start": iso(sim.fleet.start),
        "end": iso(sim.fleet.end),
        "id_prefix": config.id_prefix,
        "scenarios": config.scenarios,
    }
    write_meta(path, description)


def seed(database_url: str, sim: Simulation) -> None:
    """Vehicles, devices, loans; the risk-zone base; each loan's bound region as a fence."""
    with connect(database_url, autocommit=True) as conn:
        seed_fleet(conn, sim.fleet)
        existing = {f.name for f in fences.list_fences(conn)}
        for fence in fleet_fences(sim.fleet):
            if fence.name not in existing:
                fences.insert_fence(conn, fence)


def start_ingest(
    settings: Settings, database_url: str, mqtt_url: str, *, name: str
) -> tuple[runner.IngestProcess, threading.Thread, threading.Event]:
    """An ingestor in a thread of this process, once connected to the broker (set the event to stop it)."""
    process = wiring.ingest_process(settings, database_url=database_url, mqtt_url=mqtt_url)
    halt = threading.Event()
    thread = threading.Thread(target=runner.run, args=(process, halt), name=name, daemon=True)
    thread.start()
    if not process.link.connected.wait(30):
        halt.set()
        raise RuntimeError(f"the {name} ingestor did not connect to the broker")
    return process, thread, halt


def run(
    settings: Settings,
    *,
    database_url: str,
    mqtt_url: str,
    vehicles: int,
    days: int,
    seed_value: int,
    scenarios: str = "all",
    messy: bool = False,
    id_prefix: str = "sim",
    labels_path: Path | None = None,
    rate: float = 0.0,
    stop: threading.Event | None = None,
) -> FleetRun:
    """Simulate, publish through the broker, ingest with detectors on, and sweep to the end."""
    prepare(database_url, settings)
    config = SimConfig(
        vehicles,
        days,
        seed_value,
        default_start(days, datetime.now(UTC)),
        scenarios,
        messy=Messiness() if messy else None,
        id_prefix=id_prefix,
    )
    sim = simulate(config)
    if labels_path is not None:
        write_run(labels_path, config, sim)
    seed(database_url, sim)
    run_settings = settings.model_copy(
        update={
            "sweep_clock": "watermark",
            "sweep_every_s": 900.0,
            "allowed_lateness_s": 900.0,
            "detectors": True,
            "mqtt_client_id": f"lienwatch-fleetrun-{uuid.uuid4().hex[:8]}",
        }
    )
    process, thread, halt = start_ingest(run_settings, database_url, mqtt_url, name="ingest")
    started = time.monotonic()
    report = publish(mqtt_url, sim.messages(), rate=rate)
    published_s = time.monotonic() - started
    while process.loop.received_messages < report.acked or len(process.inbox):
        if stop is not None and stop.is_set():
            break
        time.sleep(0.2)
    drain_s = time.monotonic() - started
    halt.set()
    thread.join(60)
    pipeline = process.sink
    if isinstance(pipeline, DetectorSink):
        end = datetime.fromtimestamp(sim.fleet.end, UTC)
        with connect(database_url, autocommit=True) as conn:
            pipeline.sweep(conn, end)
            pipeline.relocation_sweep(conn, end)
    return FleetRun(sim, report.acked, process.loop.stored_positions, published_s, drain_s)
