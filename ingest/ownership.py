"""Who owns which partition: live workers and partition leases in NATS KV, each with a TTL.

Theory of operation. Every worker puts its id in the `members` bucket every third of the lease
period; an entry not renewed expires with the bucket's TTL, so a worker killed outright drops out
of the membership within one lease period. Partition leases live in the `leases` bucket: taking
one is a create (it fails while another worker's lease is alive), keeping it is an update that
names the revision we wrote last (it fails once the lease expired and someone else took it), and
releasing it is a delete. Which partitions a worker should hold is rendezvous hashing over the
live members (ingest.partition.assignment): each worker reaches the same answer alone.

A lease only says who should work on a partition. What makes a stale worker harmless is the
database: claiming a partition increments its epoch there, and every batch checks that epoch in
its own transaction (storage.partitions), so a worker paused past its lease cannot commit.
"""

import asyncio
import contextlib
import logging

from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BadRequestError, KeyWrongLastSequenceError, NoKeysError
from nats.js.kv import KeyValue

log = logging.getLogger(__name__)


async def _bucket(js: JetStreamContext, name: str, ttl_s: float, replicas: int) -> KeyValue:
    config = KeyValueConfig(bucket=name, ttl=ttl_s, history=1, storage=StorageType.FILE, replicas=replicas)
    try:
        return await js.create_key_value(config)
    except BadRequestError:  # it exists with another TTL (an operator changed the lease): use it as it is
        return await js.key_value(name)


class Leases:
    """This worker's membership and the partition leases it holds."""

    def __init__(self, js: JetStreamContext, *, worker_id: str, lease_s: float, prefix: str, replicas: int = 1) -> None:
        self._js = js
        self.worker_id = worker_id
        self._lease_s = lease_s
        self._prefix = prefix
        self._replicas = replicas
        self._members: KeyValue | None = None
        self._leases: KeyValue | None = None
        self.held: dict[int, int] = {}  # partition → revision of our last write

    async def open(self) -> None:
        """Create or open both buckets, and announce this worker."""
        self._members = await _bucket(self._js, f"{self._prefix}_members", self._lease_s, self._replicas)
        self._leases = await _bucket(self._js, f"{self._prefix}_leases", self._lease_s, self._replicas)
        await self.heartbeat()

    def _kv(self) -> tuple[KeyValue, KeyValue]:
        assert self._members is not None and self._leases is not None, "Leases.open() first"
        return self._members, self._leases

    async def heartbeat(self) -> None:
        """Say this worker is alive (for one more lease period)."""
        members, _ = self._kv()
        await members.put(self.worker_id, b"alive")

    async def members(self) -> list[str]:
        """The live workers, this one always included (its own entry may lapse while it is busy:
        it must not give its partitions away for that; leases and the database fence decide)."""
        members, _ = self._kv()
        try:
            found = set(await members.keys())
        except NoKeysError:
            found = set()
        return sorted(found | {self.worker_id})

    async def take(self, partition: int) -> bool:
        """Take a partition's lease if nobody holds it."""
        _, leases = self._kv()
        try:
            self.held[partition] = await leases.create(f"p{partition}", self.worker_id.encode())
        except KeyWrongLastSequenceError:
            return False
        return True

    async def renew(self) -> set[int]:
        """Keep every lease held (all at once: one round trip, not one per partition); the
        partitions whose lease was lost (expired and taken, or deleted)."""
        members, leases = self._kv()
        held = list(self.held.items())
        results = await asyncio.gather(
            members.put(self.worker_id, b"alive"),
            *(leases.update(f"p{p}", self.worker_id.encode(), last=revision) for p, revision in held),
            return_exceptions=True,
        )
        if isinstance(results[0], BaseException):
            raise results[0]
        lost = set()
        for (partition, revision), result in zip(held, results[1:], strict=True):
            if self.held.get(partition) != revision:
                continue  # released or taken anew meanwhile
            if isinstance(result, KeyWrongLastSequenceError):
                log.warning("lease of partition %d lost (expired and taken, or deleted)", partition)
                self.held.pop(partition, None)
                lost.add(partition)
            elif isinstance(result, BaseException):
                log.warning("lease of partition %d not renewed: %s", partition, result)
            else:
                self.held[partition] = int(result)
        return lost

    async def release(self, partition: int) -> None:
        """Give a partition's lease up, so its next owner can take it at once."""
        _, leases = self._kv()
        revision = self.held.pop(partition, None)
        if revision is not None:
            with contextlib.suppress(Exception):  # expired already: nothing to give up
                await leases.delete(f"p{partition}", last=revision)

    async def leave(self) -> None:
        """Release every lease and leave the membership (a graceful stop)."""
        for partition in list(self.held):
            await self.release(partition)
        members, _ = self._kv()
        with contextlib.suppress(Exception):
            await members.delete(self.worker_id)
