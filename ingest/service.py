"""The ingest loop: take a batch from the inbox, decode, store, commit, then acknowledge.

Theory of operation. paho's network thread puts each QoS 1 message in a bounded Inbox and
sends no PUBACK. This loop takes up to `batch_size` messages or whatever arrived within
`flush_s`, decodes them (pure), and stores positions and quarantine rows in one transaction.
Only after the commit are the messages acknowledged, so a crash anywhere before leaves them
with the broker, which redelivers; the (device, fix time) key makes that a no-op. While the
database is down the same batch is retried with capped backoff; the Inbox fills, paho stops
reading, and the broker queues for our persistent session: memory stays bounded, nothing
accepted is lost. The new positions of each committed batch go to the detectors.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from domain.vocabulary import RejectReason
from ingest.decode import Decoded, Limits, Reject, decode
from ingest.inbox import Inbox
from ingest.link import Inbound
from ingest.metrics import IngestMetrics
from ingest.pipeline import PositionSink
from ingest.store import BatchStore, Message, Stored, utc
from storage.errors import DatabaseUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    first_s: float = 0.2
    cap_s: float = 10.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt` (1-based), doubling up to the cap."""
        # The exponent is bounded: a database down for hours means thousands of retries, and
        # 2 ** 1024 is past any float.
        return float(min(self.cap_s, self.first_s * 2 ** min(attempt - 1, 64)))


class IngestLoop:
    """The single writer of one ingest process."""

    def __init__(
        self,
        *,
        inbox: Inbox[Inbound],
        store: BatchStore,
        ack: Callable[[list[Inbound]], int],
        sink: PositionSink,
        metrics: IngestMetrics,
        limits: Limits,
        batch_size: int,
        flush_s: float,
        backoff: Backoff = Backoff(),
        tick: Callable[[], None] | None = None,
    ) -> None:
        self._tick = tick
        self._inbox = inbox
        self._store = store
        self._ack = ack
        self._sink = sink
        self._metrics = metrics
        self._limits = limits
        self._batch_size = batch_size
        self._flush_s = flush_s
        self._backoff = backoff
        self.stored_positions = 0
        self.committed_batches = 0
        self.received_messages = 0

    def run(self, stop: threading.Event) -> None:
        """Process batches until `stop` is set and the inbox is drained."""
        while True:
            batch = self._inbox.take(self._batch_size, self._flush_s)
            self._metrics.queue_depth.set(len(self._inbox))
            if batch:
                self.process(batch, stop)
            elif stop.is_set():
                return
            self._run_tick()

    def _run_tick(self) -> None:
        """Periodic work of the sink (absence-of-data sweeps), on this thread: no locks needed."""
        if self._tick is None:
            return
        try:
            self._tick()
        except Exception:  # a sweep must never stop ingest; it runs again on the next tick
            log.exception("sweep failed")

    def process(self, batch: list[Inbound], stop: threading.Event | None = None) -> Stored:
        """Decode, store and judge (retrying through outages), then acknowledge one batch."""
        messages = [self._decode(m) for m in batch]
        self._metrics.received.inc(len(batch))
        attempt = 0
        while True:
            try:
                with self._metrics.commit_seconds.time():
                    stored = self._store.store(messages, sink=self._sink)
                break
            except DatabaseUnavailable as exc:
                attempt += 1
                delay = self._backoff.delay(attempt)
                self._metrics.db_retries.inc()
                log.warning("database unavailable (%s); retry %d in %.1fs", exc, attempt, delay)
                # Sleeping on the event wakes a shutdown early, but the batch is still owed: keep going.
                if stop is not None:
                    stop.wait(delay)
                else:
                    threading.Event().wait(delay)
        self._ack(batch)
        self._record(batch, stored)
        return stored

    def _decode(self, m: Inbound) -> Message:
        received = utc(m.received_at)
        try:
            decoded = decode(m.topic, m.payload, received, self._limits)
        except Exception as exc:  # a decoder bug must cost one message (quarantined), not the writer thread
            log.exception("decoder failed on a message from %s", m.topic)
            reject = Reject(RejectReason.DECODE_ERROR, f"decoder failed: {type(exc).__name__}", m.payload)
            decoded = Decoded(None, [], [reject])
        return Message(m.topic, m.payload, received, decoded)

    def _record(self, batch: list[Inbound], stored: Stored) -> None:
        metrics = self._metrics
        metrics.batch_size.observe(len(batch))
        metrics.accepted.inc(len(stored.new))
        metrics.duplicates.inc(stored.duplicates)
        for reason, count in stored.rejected.items():
            metrics.rejected.labels(reason=reason).inc(count)
        lag = metrics.lag_seconds
        for p in stored.new:
            lag.observe((p.received_at - p.ts).total_seconds())
        self.stored_positions += len(stored.new)
        self.received_messages += len(batch)
        self.committed_batches += 1
