"""Running one ingest process: link, inbox, store and loop wired together."""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prometheus_client import start_http_server

from ingest.decode import Limits
from ingest.inbox import Inbox
from ingest.link import Inbound, MqttLink
from ingest.metrics import IngestMetrics
from ingest.pipeline import PositionSink
from ingest.service import IngestLoop
from ingest.store import BatchStore
from ingest.topics import subscriptions

if TYPE_CHECKING:
    from ingest.jt808.server import GatewayConfig, GatewayServer

log = logging.getLogger(__name__)


SHARED_SUBSCRIPTION_REFUSED = (
    "LIENWATCH_MQTT_SHARE_GROUP is refused: a plain $share subscription hands each device's messages "
    "round-robin to the ingest processes, each judging with its own detector state (false offline alerts, "
    "inverted GPS jumps, a car's two units on different workers); to split the load run `lienwatch router` "
    "and `lienwatch worker` with LIENWATCH_NATS_URL (partitioned by vehicle, README: Scale-out)"
)


class UnsafeScaleOut(Exception):
    """A configuration that would split one vehicle's decisions across processes."""


@dataclass(frozen=True, slots=True)
class WriterConfig:
    """The batch writer's knobs: the decoder's limits, batch size, flush interval, Inbox bound."""

    limits: Limits
    batch_size: int
    flush_s: float
    queue_max: int


@dataclass(frozen=True, slots=True)
class IngestConfig:
    """One ingest process: its MQTT session and its batch writer."""

    client_id: str
    writer: WriterConfig
    protocol: str = "5"
    receive_maximum: int = 20000
    share_group: str | None = None  # refused: see SHARED_SUBSCRIPTION_REFUSED


def writer_loop(
    writer: WriterConfig,
    *,
    inbox: Inbox[Inbound],
    store: BatchStore,
    ack: Callable[[list[Inbound]], int],
    sink: PositionSink,
    metrics: IngestMetrics,
) -> IngestLoop:
    """The batch writer draining `inbox` into `store`, acknowledging through `ack` after commit."""
    return IngestLoop(
        inbox=inbox,
        store=store,
        ack=ack,
        sink=sink,
        metrics=metrics,
        limits=writer.limits,
        batch_size=writer.batch_size,
        flush_s=writer.flush_s,
        tick=getattr(sink, "tick", None),
    )


@dataclass
class IngestProcess:
    loop: IngestLoop
    link: MqttLink
    inbox: Inbox[Inbound]
    store: BatchStore
    metrics: IngestMetrics
    sink: PositionSink
    jt808: "GatewayServer | None" = None


def build(
    config: IngestConfig,
    *,
    database_url: str,
    mqtt_url: str,
    sink: PositionSink,
    metrics: IngestMetrics | None = None,
    jt808: "GatewayConfig | None" = None,
) -> IngestProcess:
    """Wire one ingest process (nothing is started).

    With `jt808`, the JT/T 808 gateway feeds the same Inbox and writer: a car whose units come
    in over both MQTT and JT/T 808 is then judged by one detector state (separation needs that).
    """
    if config.share_group:
        raise UnsafeScaleOut(SHARED_SUBSCRIPTION_REFUSED)
    metrics = metrics or IngestMetrics()
    inbox: Inbox[Inbound] = Inbox(config.writer.queue_max)
    link = MqttLink(
        url=mqtt_url,
        client_id=config.client_id,
        subscriptions=subscriptions(None),
        deliver=inbox.put,
        protocol=config.protocol,
        receive_maximum=config.receive_maximum,
    )
    store = BatchStore(database_url)
    ack: Callable[[list[Inbound]], int] = link.ack
    gateway = None
    if jt808 is not None:
        from ingest.jt808 import server as jt808_server

        gateway = jt808_server.make(jt808, inbox, database_url)
        native_ack = gateway.gateway.ack

        def both(batch: list[Inbound]) -> int:  # each side acknowledges only its own messages
            return link.ack(batch) + native_ack(batch)

        ack = both

    loop = writer_loop(config.writer, inbox=inbox, store=store, ack=ack, sink=sink, metrics=metrics)
    return IngestProcess(loop, link, inbox, store, metrics, sink, gateway)


def run(
    process: IngestProcess,
    stop: threading.Event,
    *,
    metrics_port: int = 0,
    jt808_host: str = "0.0.0.0",
    jt808_port: int = 6808,
    mqtt_url: str | None = None,
) -> None:
    """Run until `stop` is set, then commit and acknowledge what was received, and disconnect."""
    if metrics_port:
        start_http_server(metrics_port, addr="127.0.0.1", registry=process.metrics.registry)
        log.info("metrics on http://127.0.0.1:%d/metrics", metrics_port)
    process.link.start()
    writer_stop = threading.Event()
    writer = threading.Thread(target=process.loop.run, args=(writer_stop,), name="ingest-writer")
    writer.start()
    gateway = None
    if process.jt808 is not None:
        from ingest.jt808 import server as jt808_server

        options = {"host": jt808_host, "port": jt808_port, "mqtt_url": mqtt_url}
        gateway = threading.Thread(
            target=jt808_server.serve, args=(process.jt808, stop), kwargs=options, name="jt808", daemon=True
        )
        gateway.start()
    try:
        stop.wait()
    finally:
        stop.set()
        if gateway is not None:
            gateway.join(30)  # its connections closed, what they sent is in the inbox
        writer_stop.set()
        process.inbox.close()
        writer.join()
        process.link.stop()
        process.store.close()
        log.info(
            "ingest stopped: %d positions stored in %d batches",
            process.loop.stored_positions,
            process.loop.committed_batches,
        )
