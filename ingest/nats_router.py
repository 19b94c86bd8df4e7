"""The router: tracker MQTT in, JetStream partitioned by vehicle out, MQTT PUBACK after JetStream's.

Theory of operation. Trackers keep publishing MQTT (QoS 1) to the broker they know. The router
holds one persistent MQTT session (the ingestor's paho link, manual acknowledgement) and is
otherwise stateless: for each message it reads the device from the topic, looks up its vehicle
in the registry (cached; a miss asks the database again at most every few seconds), and
publishes the untouched payload to `lienwatch.pos.<partition>.<vehicle>` with the topic and
receive time as headers and a content-derived `Nats-Msg-Id`. Only when JetStream has confirmed
every publish of a batch (stored, on every replica) does the router acknowledge the batch to
the MQTT broker; a crash before leaves the messages with the broker, which redelivers them,
and the stream's duplicate window drops the copies it already holds. One router keeps each
device's order (one MQTT session in, one NATS connection out, publishes sent in order).

On the event-time clock (LIENWATCH_SWEEP_CLOCK=watermark, simulation and replay) the router
also decodes each message for its fix times and, after each batch, sends every partition a
punctuation carrying the latest fix time routed so far: a partition's clock then moves with the
whole fleet's data, not only with its own few cars, exactly as one process's clock would.
"""

import asyncio
import logging
import threading
import time
from datetime import datetime
from typing import Any

from nats.js import JetStreamContext

from ingest.decode import Limits, decode
from ingest.inbox import Inbox
from ingest.link import Inbound, MqttLink
from ingest.nats_stream import CLOCK, MSG_ID, RECEIVED, TOPIC, StreamShape, connect, ensure_stream
from ingest.partition import Router, clock_subject, message_id
from ingest.store import utc
from ingest.topics import TopicError, parse_topic, subscriptions
from storage.database import connect as db_connect
from storage.devices import all_devices

log = logging.getLogger(__name__)

_MISS_RETRY_S = 5.0  # an unknown device is looked up again at most this often
_RELOAD_S = 30.0  # devices moved to another vehicle are seen within this
_CONFIRM_S = 15.0  # JetStream's confirmation of a batch, or the batch is sent again


class VehicleMap:
    """Device → vehicle from the registry, reloaded periodically and on a miss."""

    def __init__(self, database_url: str, partitions: int) -> None:
        self._url = database_url
        self._partitions = partitions
        self.router = Router(partitions, {})
        self._loaded_at = float("-inf")

    def routes(self, device_ids: set[str]) -> Router:
        """The routing table, reloaded first when it is old or a device is missing from it."""
        now = time.monotonic()
        missing = any(d not in self.router.vehicles for d in device_ids)
        if now - self._loaded_at >= _RELOAD_S or (missing and now - self._loaded_at >= _MISS_RETRY_S):
            with db_connect(self._url, autocommit=True) as conn:
                devices = all_devices(conn)
            self.router = Router(self._partitions, {d: dev.vin for d, dev in devices.items()})
            self._loaded_at = now
        return self.router


def _close_on(stop: threading.Event, inbox: Inbox[Inbound]) -> None:
    stop.wait()
    inbox.close()


def _device(topic: str) -> str | None:
    try:
        return parse_topic(topic).device_id
    except TopicError:
        return None  # the worker's decoder quarantines it with its reason


class PositionRouter:
    """One router process: MQTT link → inbox → JetStream, acknowledging after JetStream's ack."""

    def __init__(
        self,
        *,
        mqtt_url: str,
        nats_url: str,
        database_url: str,
        shape: StreamShape,
        client_id: str,
        protocol: str = "5",
        receive_maximum: int = 20000,
        queue_max: int = 20000,
        batch_size: int = 2000,
        flush_s: float = 0.05,
        limits: Limits | None = None,
    ) -> None:
        self.inbox: Inbox[Inbound] = Inbox(queue_max)
        self.link = MqttLink(
            url=mqtt_url,
            client_id=client_id,
            subscriptions=subscriptions(None),
            deliver=self.inbox.put,
            protocol=protocol,
            receive_maximum=receive_maximum,
        )
        self._nats_url = nats_url
        self._shape = shape
        self._vehicles = VehicleMap(database_url, shape.partitions)
        self._batch_size = batch_size
        self._flush_s = flush_s
        self._limits = limits  # set: decode fix times and punctuate partitions (event-time clock)
        self._clock: datetime | None = None
        self._clock_sent: datetime | None = None
        self.routed = 0
        self.ready = threading.Event()

    async def run(self, stop: threading.Event) -> None:
        """Route until `stop` is set, then acknowledge what was confirmed and disconnect."""
        nc = await connect(self._nats_url, name="lienwatch-router")
        try:
            js = nc.jetstream(publish_async_max_pending=self._batch_size * 2)
            await ensure_stream(js, self._shape)
            self.link.start()
            self.ready.set()
            loop = asyncio.get_running_loop()
            # The inbox waits for messages without end; closing it on stop makes take() drain and return.
            loop.run_in_executor(None, _close_on, stop, self.inbox)
            while True:
                batch = await loop.run_in_executor(None, self.inbox.take, self._batch_size, self._flush_s)
                if batch:
                    await self._route(js, batch, stop)
                elif stop.is_set():
                    break
        finally:
            self.inbox.close()
            self.link.stop()
            await nc.close()
            log.info("router stopped: %d messages routed", self.routed)

    async def _route(self, js: JetStreamContext, batch: list[Inbound], stop: threading.Event) -> None:
        """Publish a batch until JetStream confirms all of it, then PUBACK it to the MQTT broker."""
        devices = [_device(m.topic) for m in batch]
        attempt = 0
        while True:
            pending: list[asyncio.Future[Any]] = []
            try:
                router = self._vehicles.routes({d for d in devices if d is not None})
                for m, device in zip(batch, devices, strict=True):
                    _, subject = router.route(device, m.topic)
                    headers = {TOPIC: m.topic, RECEIVED: repr(m.received_at), MSG_ID: message_id(m.topic, m.payload)}
                    pending.append(await js.publish_async(subject, m.payload, headers=headers))
                    if self._limits is not None:
                        self._observe(m)
                pending += await self._punctuate(js)
                await asyncio.wait_for(asyncio.gather(*pending), _CONFIRM_S)
                break
            except Exception as exc:  # NATS or the database away: same ids, so re-sending is safe
                for future in pending:
                    future.cancel()  # frees its slot in the client's window of unconfirmed publishes
                attempt += 1
                delay = min(10.0, 0.2 * 2 ** min(attempt, 6))
                log.warning("unconfirmed by JetStream: %d (%s); retry %d in %.1fs", len(batch), exc, attempt, delay)
                await asyncio.sleep(delay)
        self.link.ack(batch)
        self.routed += len(batch)

    def _observe(self, m: Inbound) -> None:
        assert self._limits is not None
        for p in decode(m.topic, m.payload, utc(m.received_at), self._limits).positions:
            if self._clock is None or p.ts > self._clock:
                self._clock = p.ts

    async def _punctuate(self, js: JetStreamContext) -> list["asyncio.Future[Any]"]:
        """Tell every partition how far the fleet's fix times have reached (event-time clock only)."""
        clock = self._clock
        if clock is None or clock == self._clock_sent:
            return []
        self._clock_sent = clock
        stamp = clock.isoformat()
        out: list[asyncio.Future[Any]] = []
        for p in range(self._shape.partitions):
            headers = {CLOCK: stamp, MSG_ID: f"c-{p}-{stamp}"}
            out.append(await js.publish_async(clock_subject(p), b"", headers=headers))
        return out
