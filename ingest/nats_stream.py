"""The JetStream side of scale-out: the positions stream, its per-partition consumers, the headers.

One stream holds every routed position message on `lienwatch.pos.<partition>.<vehicle>`; each
partition is read by one durable pull consumer named after the partition and the owner's epoch
(`lw-p3-e7`), created by the owner when it takes the partition, starting right after the last
message committed to the database. A worker that lost the partition keeps a name nobody serves
any more: it cannot take messages from the new owner's consumer. The consumer acknowledges
cumulatively (AckPolicy.ALL): one ack after a batch's commit covers the batch.
"""

import contextlib
from dataclasses import dataclass
from datetime import timedelta

import nats
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError

from ingest.partition import SUBJECT_ROOT, partition_filter

# Headers the router sets on each message (the payload is the tracker's bytes, unchanged).
TOPIC = "Lw-Topic"  # the MQTT topic it came on: the device, the dialect
RECEIVED = "Lw-Received"  # epoch seconds when the router read it (future-fix check, quarantine time)
CLOCK = "Lw-Clock"  # on punctuation: the latest fix time routed so far (ISO 8601)
MSG_ID = "Nats-Msg-Id"

DUPLICATE_WINDOW = timedelta(minutes=10)  # a router restarting within this re-sends as no-ops
RETENTION = timedelta(days=7)  # the backlog a stopped fleet of workers can come back to
ACK_WAIT = timedelta(minutes=10)  # owners commit in seconds; redelivery is a fault, not a rhythm


class ScaleError(Exception):
    """The engine cannot be used as configured (unreachable, or a stream of another shape)."""


@dataclass(frozen=True, slots=True)
class StreamShape:
    name: str
    partitions: int
    replicas: int = 1

    @property
    def description(self) -> str:
        return f"lienwatch positions by vehicle, {self.partitions} partitions"


async def connect(url: str, *, name: str) -> NatsClient:
    """A NATS connection that reconnects forever (the stream keeps what it has not delivered)."""
    try:
        return await nats.connect(url, name=name, max_reconnect_attempts=-1, reconnect_time_wait=0.5, connect_timeout=5)
    except Exception as exc:  # nats-py raises its own and OS errors alike
        raise ScaleError(f"cannot reach NATS at {url}: {exc}") from exc


async def ensure_stream(js: JetStreamContext, shape: StreamShape) -> None:
    """Create the positions stream if missing; refuse one made for another partition count."""
    try:
        info = await js.stream_info(shape.name)
    except NotFoundError:
        await js.add_stream(
            StreamConfig(
                name=shape.name,
                description=shape.description,
                subjects=[f"{SUBJECT_ROOT}.>"],
                retention=RetentionPolicy.LIMITS,
                storage=StorageType.FILE,
                discard=DiscardPolicy.OLD,
                max_age=RETENTION.total_seconds(),
                duplicate_window=DUPLICATE_WINDOW.total_seconds(),
                num_replicas=shape.replicas,
            )
        )
        return
    if info.config.description != shape.description:
        raise ScaleError(
            f"stream {shape.name} says {info.config.description!r}, but LIENWATCH_PARTITIONS is "
            f"{shape.partitions}: the partition count is fixed for the life of a stream"
        )


def consumer_name(partition: int, epoch: int) -> str:
    """The durable consumer of one partition under one owner's epoch."""
    return f"lw-p{partition}-e{epoch}"


async def open_partition(
    js: JetStreamContext, shape: StreamShape, partition: int, epoch: int, after_seq: int, *, max_pending: int
) -> JetStreamContext.PullSubscription:
    """A pull subscription on one partition from stream sequence after_seq + 1, for this epoch only.

    Consumers of earlier epochs of the partition are deleted first: their owner is gone or fenced."""
    prefix = f"lw-p{partition}-e"
    for info in await js.consumers_info(shape.name):
        name = info.name or ""
        if name.startswith(prefix) and name != consumer_name(partition, epoch):
            with contextlib.suppress(NotFoundError):  # another claimant removed it first
                await js.delete_consumer(shape.name, name)
    config = ConsumerConfig(
        durable_name=consumer_name(partition, epoch),
        filter_subject=partition_filter(partition),
        ack_policy=AckPolicy.ALL,
        ack_wait=ACK_WAIT.total_seconds(),
        max_ack_pending=max_pending,
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE if after_seq > 0 else DeliverPolicy.ALL,
        opt_start_seq=after_seq + 1 if after_seq > 0 else None,
        max_deliver=-1,
    )
    await js.add_consumer(shape.name, config)
    return await js.pull_subscribe_bind(consumer_name(partition, epoch), stream=shape.name)


async def close_partition(js: JetStreamContext, shape: StreamShape, partition: int, epoch: int) -> None:
    """Delete this epoch's consumer of a partition (after a release; the database holds the offset)."""
    try:
        await js.delete_consumer(shape.name, consumer_name(partition, epoch))
    except NotFoundError:
        pass
    except Exception:  # a consumer left behind is removed by the partition's next owner
        return
