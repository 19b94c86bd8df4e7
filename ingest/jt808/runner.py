"""Running `lienwatch gateway jt808`: the TCP gateway on an event loop, the ingestor's batch
writer on its own thread, and the command relay, wired from one Settings."""

import asyncio
import contextlib
import logging
import secrets
import threading
from dataclasses import dataclass, field

from ingest.inbox import Inbox
from ingest.jt808.commands import relay
from ingest.jt808.directory import DeviceDirectory
from ingest.jt808.gateway import Gateway
from ingest.link import Inbound
from ingest.metrics import IngestMetrics
from ingest.pipeline import PositionSink
from ingest.runner import detector_sink, limits_from
from ingest.service import IngestLoop
from ingest.store import BatchStore
from lienwatch.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class GatewayProcess:
    gateway: Gateway
    loop: IngestLoop
    inbox: Inbox[Inbound]
    store: BatchStore
    directory: DeviceDirectory
    sink: PositionSink
    port: int = 0  # the bound port, once listening
    ready: threading.Event = field(default_factory=threading.Event)
    commands_ready: threading.Event = field(default_factory=threading.Event)  # relay subscribed


def build(
    settings: Settings,
    *,
    database_url: str,
    sink: PositionSink | None = None,
    metrics: IngestMetrics | None = None,
) -> GatewayProcess:
    """Wire the gateway and its writer from settings (nothing is started)."""
    if settings.jt808_auth_secret is None:
        log.warning("LIENWATCH_JT808_AUTH_SECRET unset: auth codes last only as long as this process")
        secret = secrets.token_bytes(32)
    else:
        secret = settings.jt808_auth_secret.get_secret_value().encode()
    inbox: Inbox[Inbound] = Inbox(settings.queue_max)
    directory = DeviceDirectory(database_url)
    gateway = Gateway(
        inbox=inbox,
        capacity=settings.queue_max,
        is_registered=directory.is_registered,
        secret=secret,
        require_auth=settings.jt808_require_auth,
        idle_timeout_s=settings.jt808_idle_timeout_s,
    )
    store = BatchStore(database_url)
    sink = sink or detector_sink(settings, database_url)
    loop = IngestLoop(
        inbox=inbox,
        store=store,
        ack=gateway.ack,
        sink=sink,
        metrics=metrics or IngestMetrics(),
        limits=limits_from(settings),
        batch_size=settings.batch_size,
        flush_s=settings.flush_ms / 1000,
        tick=getattr(sink, "tick", None),
    )
    return GatewayProcess(gateway, loop, inbox, store, directory, sink)


def run(process: GatewayProcess, stop: threading.Event, *, host: str, port: int, mqtt_url: str | None = None) -> None:
    """Serve until `stop` is set; then close the connections, commit what they sent, and return."""
    writer_stop = threading.Event()
    writer = threading.Thread(target=process.loop.run, args=(writer_stop,), name="jt808-writer")
    writer.start()
    try:
        asyncio.run(_serve(process, stop, host, port, mqtt_url))
    finally:
        writer_stop.set()
        process.inbox.close()
        writer.join()
        process.store.close()
        process.directory.close()
        log.info(
            "gateway stopped: %d frames in, %d positions stored in %d batches",
            process.gateway.frames_in,
            process.loop.stored_positions,
            process.loop.committed_batches,
        )


async def _serve(process: GatewayProcess, stop: threading.Event, host: str, port: int, mqtt_url: str | None) -> None:
    server = await process.gateway.start(host, port)
    process.port = server.sockets[0].getsockname()[1]
    relay_task = None
    if mqtt_url:
        relay_task = asyncio.create_task(relay(mqtt_url, process.gateway, subscribed=process.commands_ready.set))
    log.info("JT/T 808 gateway listening on %s:%d", host, process.port)
    process.ready.set()
    try:
        await asyncio.to_thread(stop.wait)
    finally:
        server.close()
        await process.gateway.close_all()
        await server.wait_closed()
        if relay_task is not None:
            relay_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relay_task
