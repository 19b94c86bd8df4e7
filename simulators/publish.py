"""Publishing a message stream to an MQTT broker: one paced publisher, or N processes for load tests.

paho-mqtt 2.x, MQTT 3.1.1 (so the embedded amqtt broker works too), QoS 1 with many messages in
flight; the publisher waits for every PUBACK before it reports, so "sent" means "the broker has it".
"""

import logging
import multiprocessing
import os
import queue
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from simulators.payloads import Message

log = logging.getLogger(__name__)

MessageSource = Sequence[Message] | Callable[[], Iterable[Message]]


class PublishError(RuntimeError):
    """The broker could not be reached, refused us, or did not acknowledge in time."""


@dataclass(frozen=True, slots=True)
class PublishReport:
    sent: int
    acked: int
    seconds: float

    @property
    def rate(self) -> float:
        """Acknowledged messages per second."""
        return self.acked / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class LoadReport:
    sent: int
    acked: int
    seconds: float  # the slowest process's publishing time
    per_process: tuple[PublishReport, ...]

    @property
    def rate(self) -> float:
        return self.acked / self.seconds if self.seconds > 0 else 0.0


def _endpoint(url: str) -> tuple[str, int, bool, str | None, str | None]:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp"):
        raise PublishError(f"broker URL: scheme must be mqtt:// or mqtts://, got {url!r}")
    tls = parts.scheme == "mqtts"
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return parts.hostname or "127.0.0.1", parts.port or (8883 if tls else 1883), tls, user, password


class _Acks:
    """PUBACK bookkeeping shared with paho's network thread."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.acked = 0
        self.connected = threading.Event()
        self.refused: str | None = None

    def on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            self.refused = str(reason)
        self.connected.set()

    def on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        with self.cond:
            self.acked += 1
            self.cond.notify_all()


def publish(
    url: str,
    messages: Iterable[Message],
    *,
    rate: float = 0.0,
    max_in_flight: int = 1000,
    client_id: str | None = None,
    on_progress: Callable[[int], None] | None = None,
    ack_timeout_s: float = 60.0,
) -> PublishReport:
    """Publish messages at `rate` per second (0: as fast as the broker acknowledges), QoS 1."""
    host, port, tls, user, password = _endpoint(url)
    acks = _Acks()
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id or f"lienwatch-sim-{os.getpid()}-{uuid.uuid4().hex[:8]}",
        protocol=mqtt.MQTTv311,
    )
    client.on_connect = acks.on_connect
    client.on_publish = acks.on_publish
    client.max_inflight_messages_set(max_in_flight)
    if tls:
        client.tls_set()
    if user is not None:
        client.username_pw_set(user, password)
    try:
        client.connect(host, port, keepalive=60)
    except OSError as exc:
        raise PublishError(f"cannot connect to the MQTT broker at {host}:{port}: {exc}") from exc
    client.loop_start()
    try:
        if not acks.connected.wait(timeout=15) or acks.refused:
            raise PublishError(f"MQTT broker at {host}:{port} did not accept the connection: {acks.refused}")
        sent, reported = 0, 0
        # Paho queues without bound; cap what is unacknowledged so a huge stream stays in bounded memory.
        window = 4 * max_in_flight
        start = time.monotonic()
        for message in messages:
            if rate > 0:
                ahead = start + sent / rate - time.monotonic()
                if ahead > 0.002:
                    time.sleep(ahead)
            with acks.cond:
                while sent - acks.acked >= window:
                    if not acks.cond.wait(timeout=ack_timeout_s):
                        raise PublishError(f"no PUBACK for {ack_timeout_s:g} s ({sent - acks.acked} pending)")
            info = client.publish(message.topic, message.payload, qos=1)
            # NO_CONN: paho keeps a QoS 1 message queued and sends it after reconnecting.
            if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                raise PublishError(f"publish to {message.topic} failed: {mqtt.error_string(info.rc)}")
            sent += 1
            if on_progress is not None and sent - reported >= 500:
                on_progress(sent - reported)
                reported = sent
        with acks.cond:
            if not acks.cond.wait_for(lambda: acks.acked >= sent, timeout=ack_timeout_s):
                raise PublishError(f"{sent - acks.acked} of {sent} messages not acknowledged")
        seconds = time.monotonic() - start
        if on_progress is not None and sent > reported:
            on_progress(sent - reported)
        return PublishReport(sent, acks.acked, seconds)
    finally:
        client.disconnect()
        client.loop_stop()


def share_of(topic: str, processes: int) -> int:
    """Which load process publishes this topic's device (stable across runs and processes)."""
    return zlib.crc32(topic.encode()) % processes


def _worker(
    url: str, source: MessageSource, share: int, processes: int, rate: float, barrier: Any, results: Any
) -> None:
    stream = source() if callable(source) else source
    mine = [m for m in stream if share_of(m.topic, processes) == share]
    try:
        barrier.wait(timeout=600)
        report = publish(url, mine, rate=rate)
        results.put((share, report.sent, report.acked, report.seconds, None))
    except (PublishError, threading.BrokenBarrierError) as exc:
        results.put((share, 0, 0, 0.0, str(exc)))


def load(url: str, source: MessageSource, *, processes: int, rate: float = 0.0) -> LoadReport:
    """Publish from `processes` worker processes, each a disjoint share of the devices at rate/processes.

    `source` is a sequence of messages or a picklable zero-argument factory (e.g. functools.partial
    of a module-level function); each worker builds its share before a common start.
    """
    if processes < 1:
        raise ValueError(f"processes: must be >= 1, got {processes}")
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes)
    results = ctx.Queue()
    workers = []
    for share in range(processes):
        part: MessageSource = source
        if not callable(source):
            part = [m for m in source if share_of(m.topic, processes) == share]
        proc = ctx.Process(target=_worker, args=(url, part, share, processes, rate / processes, barrier, results))
        proc.start()
        workers.append(proc)
    rows: list[tuple[int, int, int, float, str | None]] = []
    while len(rows) < processes:
        try:
            rows.append(results.get(timeout=1.0))
        except queue.Empty:
            if not any(proc.is_alive() for proc in workers) and results.empty():
                break
    for proc in workers:
        proc.join()
    if len(rows) < processes:
        raise PublishError(f"{processes - len(rows)} load process(es) died without a report")
    errors = [row[4] for row in rows if row[4]]
    if errors:
        raise PublishError(f"{len(errors)} load process(es) failed: {errors[0]}")
    rows.sort()
    reports = tuple(PublishReport(sent, acked, seconds) for _, sent, acked, seconds, _ in rows)
    return LoadReport(
        sum(r.sent for r in reports), sum(r.acked for r in reports), max(r.seconds for r in reports), reports
    )
