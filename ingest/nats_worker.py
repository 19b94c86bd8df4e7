"""A partitioned ingest worker: the partitions it owns, read in order, stored and judged, acked after commit.

Theory of operation. The worker joins the membership (ingest.ownership) and, every third of a
lease period, renews its leases and rebalances: partitions that rendezvous hashing gives to
another live worker are released, partitions it wins whose lease is free are taken. Taking a
partition is, in this order: the lease; a claim in the database (a new epoch, which fences out
the previous owner, and the stream sequence its last commit reached); reloading the detector
state of every vehicle it now owns from device_state; and a consumer of the partition starting
right after that sequence. A fetch task per partition feeds one bounded queue, in stream order.

The writer takes a batch from the queue (messages of any of its partitions), decodes it, and in
one transaction stores the positions and quarantine rows, runs the detectors, and advances each
partition's committed sequence and clock under its epoch. A batch of a partition claimed since
by another worker raises Fenced and commits nothing; that partition is dropped and the rest is
stored again. Only after the commit is each partition acknowledged to JetStream (cumulatively,
up to the batch's last message). Nothing uncommitted is ever needed again by this worker: the
next owner starts from the database's sequence, so dropping a queue is safe, and a redelivered
message is skipped by its sequence or stored as a duplicate (the (device, fix time) key).

Sweeps (offline, long idle, relocation) run here, between batches, over the owned vehicles only,
on the partitions' clock (ingest.partition_clock): once per vehicle cluster-wide.
"""

import asyncio
import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from domain.assets import Device
from domain.position import Position
from domain.vocabulary import RejectReason
from ingest.decode import Decoded, Limits, Reject, decode
from ingest.detectors import DetectorSink
from ingest.metrics import IngestMetrics
from ingest.nats_stream import (
    CLOCK,
    RECEIVED,
    TOPIC,
    StreamShape,
    close_partition,
    connect,
    ensure_stream,
    open_partition,
)
from ingest.ownership import Leases
from ingest.partition import CLOCK_TOKEN, assignment, device_partition
from ingest.partition_clock import PartitionClock, WallClock
from ingest.pipeline import NoDetectors, PositionSink
from ingest.service import Backoff
from ingest.store import BatchStore, Message, Stored, utc
from storage import partitions as offsets
from storage.database import Connection
from storage.database import connect as db_connect
from storage.errors import DatabaseUnavailable, StorageError

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Held:
    """One partition while this worker owns it (one epoch)."""

    partition: int
    epoch: int
    committed_seq: int
    committed_clock: datetime | None
    queued_seq: int = 0
    fetcher: "asyncio.Task[None] | None" = None
    lost: bool = False
    idle: bool = False  # the last fetch found nothing new: the stream is read to its end

    @property
    def caught_up(self) -> bool:
        return self.idle and self.committed_seq >= self.queued_seq


@dataclass
class Item:
    held: Held
    msg: Msg
    seq: int


@dataclass
class WorkerConfig:
    worker_id: str
    shape: StreamShape
    lease_s: float = 10.0
    batch_size: int = 5000
    flush_s: float = 0.2
    queue_max: int = 20000
    fetch_size: int = 1000
    event_time: bool = False
    lateness: timedelta = timedelta(seconds=300)
    kv_prefix: str = "lienwatch"


def default_worker_id() -> str:
    """host-pid: unique among live workers, readable in the lease bucket."""
    return f"{socket.gethostname()}-{os.getpid()}".replace(".", "-")


class PartitionWorker:
    """One worker process of the partitioned ingest."""

    def __init__(
        self,
        config: WorkerConfig,
        *,
        database_url: str,
        nats_url: str,
        limits: Limits,
        detectors: bool = True,
        sweep_every_s: float = 300.0,
        timezone: str = "Asia/Shanghai",
        metrics: IngestMetrics | None = None,
    ) -> None:
        self.config = config
        self._db = database_url
        self._nats_url = nats_url
        self._limits = limits
        self.metrics = metrics or IngestMetrics()
        self.store = BatchStore(database_url)
        self.held: dict[int, Held] = {}
        clock = (
            PartitionClock(config.lateness, lambda: {p: h.committed_clock for p, h in self.held.items()})
            if config.event_time
            else WallClock(lambda: all(h.caught_up for h in self.held.values()))
        )
        self.detectors: DetectorSink | None = (
            DetectorSink(
                database_url=database_url,
                watermark=clock,
                sweep_every_s=sweep_every_s,
                timezone=timezone,
                owns=self._owns,
            )
            if detectors
            else None
        )
        self.sink: PositionSink = OwnedOnly(self.detectors) if self.detectors is not None else NoDetectors()
        self._sweep_every = timedelta(seconds=sweep_every_s)
        self._queue: asyncio.Queue[Item] = asyncio.Queue(config.queue_max)
        self._backoff = Backoff()
        self.stored_positions = 0
        self.committed_batches = 0
        self.ready = threading.Event()

    def _owns(self, device: Device) -> bool:
        return device_partition(device, self.config.shape.partitions) in self.held

    # The process

    async def run(self, stop: threading.Event) -> None:
        """Own partitions and work them until `stop` is set; then give every lease up."""
        cfg = self.config
        nc = await connect(self._nats_url, name=f"lienwatch-worker-{cfg.worker_id}")
        js = nc.jetstream()
        leases = Leases(js, worker_id=cfg.worker_id, lease_s=cfg.lease_s, prefix=cfg.kv_prefix)
        renewer: asyncio.Task[None] | None = None
        try:
            await ensure_stream(js, cfg.shape)
            await leases.open()
            await asyncio.sleep(min(1.0, cfg.lease_s / 3))  # let workers started together see each other
            renewer = asyncio.create_task(self._renew(leases, stop))
            next_rebalance = 0.0
            self.ready.set()
            while not stop.is_set():
                if time.monotonic() >= next_rebalance or any(h.lost for h in self.held.values()):
                    await self._rebalance(js, leases)
                    next_rebalance = time.monotonic() + cfg.lease_s / 3
                items = await self._collect()
                items = [i for i in items if self.held.get(i.held.partition) is i.held]
                if items:
                    await self._process(items, stop)
                await self._tick()
        finally:
            if renewer is not None:
                renewer.cancel()
            for held in list(self.held.values()):
                await self._drop(js, held)
            with contextlib.suppress(Exception):
                await leases.leave()
            self.store.close()
            await nc.close()
            log.info(
                "worker %s stopped: %d positions in %d batches",
                cfg.worker_id,
                self.stored_positions,
                self.committed_batches,
            )

    async def _renew(self, leases: Leases, stop: threading.Event) -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                for partition in await leases.renew():
                    held = self.held.get(partition)
                    if held is not None:
                        held.lost = True
            except Exception:  # NATS away for a moment: leases may lapse; the database fences
                log.warning("lease renewal failed", exc_info=True)
            took = time.monotonic() - started
            if took > self.config.lease_s / 3:
                log.warning("lease renewal took %.1fs (lease %.1fs)", took, self.config.lease_s)
            pause = max(0.0, self.config.lease_s / 4 - took)
            slept = time.monotonic()
            await asyncio.sleep(pause)
            late = time.monotonic() - slept - pause
            if late > self.config.lease_s / 4:
                log.warning("event loop was busy: lease renewal %.1fs late", late)

    # Ownership

    async def _rebalance(self, js: JetStreamContext, leases: Leases) -> None:
        me = self.config.worker_id
        for held in [h for h in self.held.values() if h.lost]:
            await self._drop(js, held)
        try:
            desired = assignment(self.config.shape.partitions, await leases.members())
        except Exception:
            log.warning("membership unreadable; keeping what is held", exc_info=True)
            return
        changed = False
        for partition in [p for p in self.held if desired.get(p) != me]:
            await self._drop(js, self.held[partition])
            await leases.release(partition)
            changed = True
            log.info("partition %d released to %s", partition, desired.get(partition))
        taken: list[offsets.Claim] = []
        for partition, owner in sorted(desired.items()):
            if owner != me or partition in self.held or not await leases.take(partition):
                continue
            try:
                taken.append(await asyncio.to_thread(self._claim, partition))
            except (StorageError, psycopg.Error) as exc:  # the database away: try again next round
                log.warning("partition %d not claimed (%s)", partition, exc)
                await leases.release(partition)
        for claim in taken:
            self.held[claim.partition] = Held(claim.partition, claim.epoch, claim.last_seq, claim.watermark)
            changed = True
        if changed and self.detectors is not None:
            # The previous owners' commits are final (their epochs are fenced): resume from them.
            await asyncio.to_thread(self._reown, self._relocate_since(taken))
        for claim in taken:
            held = self.held[claim.partition]
            held.queued_seq = claim.last_seq
            try:
                pending = self.config.queue_max
                sub = await open_partition(
                    js, self.config.shape, claim.partition, claim.epoch, claim.last_seq, max_pending=pending
                )
            except Exception as exc:  # NATS away: give the partition up, the next round takes it again
                log.warning("partition %d: no consumer (%s)", claim.partition, exc)
                held.lost = True
                await leases.release(claim.partition)
                continue
            held.fetcher = asyncio.create_task(self._fetch(held, sub))
            log.info("partition %d taken (epoch %d, after sequence %d)", claim.partition, claim.epoch, claim.last_seq)

    def _claim(self, partition: int) -> offsets.Claim:
        with db_connect(self._db, autocommit=True) as conn:
            return offsets.claim(conn, partition, self.config.worker_id)

    def _relocate_since(self, taken: list[offsets.Claim]) -> datetime | None:
        """Where the previous owners' relocation runs may have stopped for the partitions taken: they
        ran at their clock (the partition's committed clock less the lateness) every sweep period."""
        if not self.config.event_time:
            return None
        clocks = [c.watermark for c in taken if c.watermark is not None]
        if not clocks:
            return None
        return min(clocks) - self.config.lateness - 2 * self._sweep_every

    def _reown(self, relocate_since: datetime | None = None) -> None:
        assert self.detectors is not None
        with db_connect(self._db, autocommit=True) as conn:
            self.detectors.reown(conn, relocate_since=relocate_since)

    async def _drop(self, js: JetStreamContext, held: Held) -> None:
        """Stop working a partition; what was queued and not committed is the next owner's to read."""
        if self.held.get(held.partition) is held:
            del self.held[held.partition]
        if held.fetcher is not None:
            held.fetcher.cancel()
            await asyncio.wait({held.fetcher}, timeout=5)
        await close_partition(js, self.config.shape, held.partition, held.epoch)
        if self.detectors is not None and not held.lost:
            return  # reloaded once the rebalance is done
        if self.detectors is not None:
            await asyncio.to_thread(self._reown)

    async def _fetch(self, held: Held, sub: JetStreamContext.PullSubscription) -> None:
        while True:
            try:
                msgs = await sub.fetch(self.config.fetch_size, timeout=1.0)
            except TimeoutError:
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the consumer was deleted by a newer owner, or NATS is away
                log.warning("partition %d: fetch failed (%s)", held.partition, exc)
                await asyncio.sleep(0.5)
                continue
            held.idle = False
            for msg in msgs:
                seq = msg.metadata.sequence.stream
                if seq <= held.queued_seq:
                    continue  # a redelivery of what is queued or committed already
                held.queued_seq = seq
                await self._queue.put(Item(held, msg, seq))

    # The writer

    async def _collect(self) -> list[Item]:
        cfg = self.config
        try:
            first = await asyncio.wait_for(self._queue.get(), timeout=cfg.flush_s)
        except TimeoutError:
            return []
        items = [first]
        deadline = time.monotonic() + cfg.flush_s
        while len(items) < cfg.batch_size:
            try:
                items.append(self._queue.get_nowait())
                continue
            except asyncio.QueueEmpty:
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                items.append(await asyncio.wait_for(self._queue.get(), timeout=remaining))
            except TimeoutError:
                break
        return items

    async def _process(self, items: list[Item], stop: threading.Event) -> None:
        attempt = 0
        while items:
            messages, advances = self._prepare(items)
            try:
                stored = await asyncio.to_thread(self._store, messages, advances)
            except offsets.Fenced as exc:
                log.warning("partition %d was claimed by another worker: dropped", exc.partition)
                held = self.held.get(exc.partition)
                if held is not None:
                    held.lost = True
                items = [i for i in items if i.held.partition != exc.partition]
                continue
            except DatabaseUnavailable as exc:
                if stop.is_set():
                    return  # not committed, not acknowledged: the next owner reads it again
                attempt += 1
                delay = self._backoff.delay(attempt)
                self.metrics.db_retries.inc()
                log.warning("database unavailable (%s); retry %d in %.1fs", exc, attempt, delay)
                await asyncio.sleep(delay)
                continue
            await self._acknowledge(items, advances)
            self._record(len(items), stored)
            return

    def _prepare(self, items: list[Item]) -> tuple[list[Message], dict[int, offsets.Advance]]:
        messages: list[Message] = []
        advances: dict[int, offsets.Advance] = {}
        for item in items:
            held = item.held
            clock = advances[held.partition].watermark if held.partition in advances else held.committed_clock
            headers = item.msg.headers or {}
            if item.msg.subject.endswith(CLOCK_TOKEN):
                stamp = headers.get(CLOCK)
                if stamp:
                    clock = _later(clock, datetime.fromisoformat(stamp))
            else:
                message = self._decode(item.msg, headers)
                messages.append(message)
                for p in message.decoded.positions:
                    clock = _later(clock, p.ts)
            advances[held.partition] = offsets.Advance(held.epoch, item.seq, clock)
        return messages, advances

    def _decode(self, msg: Msg, headers: dict[str, str]) -> Message:
        topic = headers.get(TOPIC, msg.subject)
        received = utc(float(headers.get(RECEIVED) or time.time()))
        try:
            decoded = decode(topic, msg.data, received, self._limits)
        except Exception as exc:  # a decoder bug costs one message (quarantined), never the worker
            log.exception("decoder failed on a message from %s", topic)
            decoded = Decoded(
                None, [], [Reject(RejectReason.DECODE_ERROR, f"decoder failed: {type(exc).__name__}", msg.data)]
            )
        return Message(topic, msg.data, received, decoded)

    def _store(self, messages: list[Message], advances: dict[int, offsets.Advance]) -> Stored:
        """One transaction: positions, quarantine, detectors and each partition's progress (fenced)."""
        try:
            return self.store.store(messages, sink=self.sink, within=lambda conn: offsets.advance(conn, advances))
        except DatabaseUnavailable as exc:
            cause = exc.__cause__
            transient = isinstance(cause, (psycopg.OperationalError, psycopg.InterfaceError)) or cause is None
            if transient or len(messages) == 0:
                raise
        # The database refused the batch itself (a value it will not take): keep the rest, quarantine that one.
        log.warning("batch refused by the database; storing message by message")
        return self._store_alone(messages, advances)

    def _store_alone(self, messages: list[Message], advances: dict[int, offsets.Advance]) -> Stored:
        """The batch without the fence in its transaction: BatchStore stores it message by message,
        quarantining the one refused (store_error); then the partitions' progress, fenced."""
        stored = self.store.store(messages, sink=self.sink)
        with db_connect(self._db, autocommit=True) as conn, conn.transaction():
            offsets.advance(conn, advances)
        return stored

    async def _acknowledge(self, items: list[Item], advances: dict[int, offsets.Advance]) -> None:
        last: dict[int, Item] = {}
        for item in items:
            last[item.held.partition] = item
        for partition, item in last.items():
            held = item.held
            held.committed_seq = advances[partition].last_seq
            held.committed_clock = advances[partition].watermark
            with contextlib.suppress(Exception):  # a lost ack only means a redelivery, skipped by sequence
                await item.msg.ack()  # AckPolicy.ALL: everything up to here

    def _record(self, count: int, stored: Stored) -> None:
        m = self.metrics
        m.received.inc(count)
        m.batch_size.observe(count)
        m.accepted.inc(len(stored.new))
        m.duplicates.inc(stored.duplicates)
        for reason, n in stored.rejected.items():
            m.rejected.labels(reason=reason).inc(n)
        self.stored_positions += len(stored.new)
        self.committed_batches += 1

    async def _tick(self) -> None:
        if self.detectors is None or not self.held:
            return
        try:
            await asyncio.to_thread(self.detectors.tick)
        except Exception:  # a sweep must never stop ingest; it runs again on the next tick
            log.exception("sweep failed")


class OwnedOnly:
    """The detectors, handed only the positions of vehicles this worker owns.

    A message reaches a partition by the vehicle the router knew for its device; if the registry
    changed since (a device fitted to another car), its positions are stored but not judged here:
    judging them would write detector state of a vehicle another worker owns."""

    def __init__(self, detectors: DetectorSink) -> None:
        self.detectors = detectors

    def evaluate(self, conn: Connection, positions: Sequence[Position]) -> Callable[[], None]:
        self.detectors.refresh(conn)
        owned = self.detectors.world.devices
        return self.detectors.evaluate(conn, [p for p in positions if p.device_id in owned])


def _later(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a
