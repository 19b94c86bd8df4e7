"""Running one ingest process: link, inbox, store and loop wired together."""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from prometheus_client import start_http_server

from ingest.decode import Limits
from ingest.inbox import Inbox
from ingest.link import Inbound, MqttLink
from ingest.metrics import IngestMetrics
from ingest.pipeline import NoDetectors, PositionSink
from ingest.service import IngestLoop
from ingest.store import BatchStore
from ingest.topics import subscriptions
from lienwatch.settings import Settings

if TYPE_CHECKING:
    from ingest.jt808.server import GatewayServer

log = logging.getLogger(__name__)


SHARED_SUBSCRIPTION_REFUSED = (
    "LIENWATCH_MQTT_SHARE_GROUP is refused: a plain $share subscription hands each device's messages "
    "round-robin to the ingest processes, each judging with its own detector state (false offline alerts, "
    "inverted GPS jumps, a car's two units on different workers); to split the load run `lienwatch router` "
    "and `lienwatch worker` with LIENWATCH_NATS_URL (partitioned by vehicle, README: Scale-out)"
)


class UnsafeScaleOut(Exception):
    """A configuration that would split one vehicle's decisions across processes."""


def limits_from(settings: Settings) -> Limits:
    """The decoder's limits as configured."""
    return Limits(
        max_payload_bytes=settings.max_payload_bytes,
        future_tolerance=timedelta(seconds=settings.future_tolerance_s),
        retention=timedelta(days=settings.retention_days),
        removal_alarm_bit=settings.jt808_removal_alarm_bit,
    )


def detector_sink(settings: Settings, database_url: str) -> PositionSink:
    """The detectors as configured (or none), for any process that stores positions."""
    if not settings.detectors:
        return NoDetectors()
    from alerts.clock import Watermark
    from ingest.detectors import DetectorSink

    # On wall time the scheduler sweeps; in simulation and replay the ingestor does, as the data moves.
    watermark = Watermark(timedelta(seconds=settings.allowed_lateness_s))
    return DetectorSink(
        database_url=database_url,
        watermark=watermark if settings.sweep_clock == "watermark" else None,
        sweep_every_s=settings.sweep_every_s,
        timezone=settings.timezone,
        policy=settings.threshold_policy(),
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
    settings: Settings,
    *,
    database_url: str,
    mqtt_url: str,
    sink: PositionSink | None = None,
    metrics: IngestMetrics | None = None,
    jt808: bool = False,
) -> IngestProcess:
    """Wire one ingest process from settings (nothing is started).

    With `jt808`, the JT/T 808 gateway feeds the same Inbox and writer: a car whose units come
    in over both MQTT and JT/T 808 is then judged by one detector state (separation needs that).
    """
    if settings.mqtt_share_group:
        raise UnsafeScaleOut(SHARED_SUBSCRIPTION_REFUSED)
    metrics = metrics or IngestMetrics()
    inbox: Inbox[Inbound] = Inbox(settings.queue_max)
    link = MqttLink(
        url=mqtt_url,
        client_id=settings.mqtt_client_id,
        subscriptions=subscriptions(None),
        deliver=inbox.put,
        protocol=settings.mqtt_protocol,
        receive_maximum=settings.mqtt_receive_maximum,
    )
    store = BatchStore(database_url)
    sink = sink or detector_sink(settings, database_url)
    ack: Callable[[list[Inbound]], int] = link.ack
    gateway = None
    if jt808:
        from ingest.jt808 import server as jt808_server

        gateway = jt808_server.make(settings, inbox, database_url)
        native_ack = gateway.gateway.ack

        def both(batch: list[Inbound]) -> int:  # each side acknowledges only its own messages
            return link.ack(batch) + native_ack(batch)

        ack = both

    loop = IngestLoop(
        inbox=inbox,
        store=store,
        ack=ack,
        sink=sink,
        metrics=metrics,
        limits=limits_from(settings),
        batch_size=settings.batch_size,
        flush_s=settings.flush_ms / 1000,
        tick=getattr(sink, "tick", None),
    )
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
