"""Running `lienwatch gateway jt808`: the gateway's event loop and a batch writer of its own on a
thread (`lienwatch ingest --jt808-port` runs the same loop instead beside the MQTT link, into the
ingestor's writer)."""

import logging
import threading
from dataclasses import dataclass

from ingest.inbox import Inbox
from ingest.jt808 import server as jt808_server
from ingest.jt808.gateway import Gateway
from ingest.jt808.server import GatewayConfig, GatewayServer
from ingest.link import Inbound
from ingest.metrics import IngestMetrics
from ingest.pipeline import PositionSink
from ingest.runner import WriterConfig, writer_loop
from ingest.service import IngestLoop
from ingest.store import BatchStore

log = logging.getLogger(__name__)


@dataclass
class GatewayProcess:
    server: GatewayServer
    loop: IngestLoop
    inbox: Inbox[Inbound]
    store: BatchStore
    sink: PositionSink

    @property
    def gateway(self) -> Gateway:
        return self.server.gateway

    @property
    def port(self) -> int:
        """The bound port, once listening."""
        return self.server.port

    @property
    def ready(self) -> threading.Event:
        return self.server.ready

    @property
    def commands_ready(self) -> threading.Event:
        return self.server.commands_ready


def build(
    config: GatewayConfig,
    writer: WriterConfig,
    *,
    database_url: str,
    sink: PositionSink,
    metrics: IngestMetrics | None = None,
) -> GatewayProcess:
    """Wire the gateway and its writer (nothing is started)."""
    inbox: Inbox[Inbound] = Inbox(writer.queue_max)
    server = jt808_server.make(config, inbox, database_url)
    store = BatchStore(database_url)
    metrics = metrics or IngestMetrics()
    loop = writer_loop(writer, inbox=inbox, store=store, ack=server.gateway.ack, sink=sink, metrics=metrics)
    return GatewayProcess(server, loop, inbox, store, sink)


def run(process: GatewayProcess, stop: threading.Event, *, host: str, port: int, mqtt_url: str | None = None) -> None:
    """Serve until `stop` is set; then close the connections, commit what they sent, and return."""
    writer_stop = threading.Event()
    writer = threading.Thread(target=process.loop.run, args=(writer_stop,), name="jt808-writer")
    writer.start()
    try:
        jt808_server.serve(process.server, stop, host=host, port=port, mqtt_url=mqtt_url)
    finally:
        writer_stop.set()
        process.inbox.close()
        writer.join()
        process.store.close()
        log.info(
            "gateway stopped: %d frames in, %d positions stored in %d batches",
            process.gateway.frames_in,
            process.loop.stored_positions,
            process.loop.committed_batches,
        )
