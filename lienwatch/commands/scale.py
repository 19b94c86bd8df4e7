"""The scale-out commands: `lienwatch router` and `lienwatch worker`."""

import asyncio
import faulthandler
import signal
import threading
from datetime import timedelta

import typer
from rich.console import Console

from ingest.link import BrokerAddress, LinkError
from ingest.nats_router import PositionRouter
from ingest.nats_stream import ScaleError, StreamShape
from ingest.nats_worker import PartitionWorker, WorkerConfig, default_worker_id
from lienwatch import wiring
from lienwatch.settings import Settings
from storage.errors import StorageError

console = Console()


def _stop_on_signals() -> threading.Event:
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 PID`: every thread's stack on stderr
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    return stop


def _required(settings: Settings) -> tuple[str, str]:
    if not settings.nats_url:
        raise ScaleError("LIENWATCH_NATS_URL is not set: scale-out needs a NATS server with JetStream")
    if not settings.database_url:
        raise ScaleError("LIENWATCH_DATABASE_URL is not set: every router and worker shares one database")
    return settings.nats_url, settings.database_url


def _shape(settings: Settings) -> StreamShape:
    return StreamShape(settings.nats_stream, settings.partitions, settings.nats_replicas)


def router(
    client_id: str = typer.Option("lienwatch-router", help="MQTT client id (fixed, for the persistent session)."),
) -> None:
    """Route tracker MQTT messages into the JetStream stream partitioned by vehicle (PUBACK after JetStream's)."""
    settings = Settings()
    try:
        nats_url, db = _required(settings)
        if not settings.mqtt_url:
            raise ScaleError("LIENWATCH_MQTT_URL is not set: the router reads the trackers' broker")
        event_time = settings.sweep_clock == "watermark"
        process = PositionRouter(
            mqtt_url=settings.mqtt_url,
            nats_url=nats_url,
            database_url=db,
            shape=_shape(settings),
            client_id=client_id,
            protocol=settings.mqtt_protocol,
            receive_maximum=settings.mqtt_receive_maximum,
            queue_max=settings.queue_max,
            limits=wiring.limits(settings) if event_time else None,
        )
        console.print(
            f"routing {BrokerAddress.parse(settings.mqtt_url).shown()} → {settings.nats_stream} "
            f"({settings.partitions} partitions)",
            highlight=False,
        )
        asyncio.run(process.run(_stop_on_signals()))
    except (ScaleError, LinkError, StorageError) as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc


def worker(
    worker_id: str = typer.Option(None, help="This worker's id among the live ones (default host-pid)."),
) -> None:
    """Own partitions of the stream: store, judge and sweep their vehicles, acknowledging after commit."""
    settings = Settings()
    try:
        nats_url, db = _required(settings)
        config = WorkerConfig(
            worker_id=worker_id or settings.worker_id or default_worker_id(),
            shape=_shape(settings),
            lease_s=settings.lease_s,
            batch_size=settings.batch_size,
            flush_s=settings.flush_ms / 1000,
            queue_max=settings.queue_max,
            event_time=settings.sweep_clock == "watermark",
            lateness=timedelta(seconds=settings.allowed_lateness_s),
        )
        process = PartitionWorker(
            config,
            database_url=db,
            nats_url=nats_url,
            limits=wiring.limits(settings),
            detectors=settings.detectors,
            sweep_every_s=settings.sweep_every_s,
            timezone=settings.timezone,
        )
        console.print(f"worker {config.worker_id} on {settings.nats_stream} ({settings.partitions} partitions)")
        asyncio.run(process.run(_stop_on_signals()))
    except (ScaleError, StorageError) as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
