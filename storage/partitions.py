"""Stream partitions in the database: who holds each one (epoch, the fencing token) and how far
its committed messages reach (last stream sequence, event-time watermark)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from storage.database import Connection
from storage.errors import StorageError

_CLAIM = """
    INSERT INTO stream_partitions (partition, owner, epoch, claimed_at, updated_at)
    VALUES (%(partition)s, %(owner)s, 1, now(), now())
    ON CONFLICT (partition) DO UPDATE
        SET owner = EXCLUDED.owner, epoch = stream_partitions.epoch + 1, claimed_at = now(), updated_at = now()
    RETURNING epoch, last_seq, watermark
"""
_ADVANCE = """
    UPDATE stream_partitions
       SET last_seq = greatest(last_seq, %(last_seq)s),
           watermark = CASE WHEN %(watermark)s::timestamptz IS NULL THEN watermark
                            ELSE greatest(watermark, %(watermark)s::timestamptz) END,
           updated_at = now()
     WHERE partition = %(partition)s AND epoch = %(epoch)s
"""


class Fenced(StorageError):
    """A newer owner has claimed the partition: this worker's batch must not commit."""

    def __init__(self, partition: int, epoch: int) -> None:
        super().__init__(f"partition {partition}: epoch {epoch} is no longer the owner's")
        self.partition = partition
        self.epoch = epoch


@dataclass(frozen=True, slots=True)
class Claim:
    partition: int
    epoch: int
    last_seq: int
    watermark: datetime | None


@dataclass(frozen=True, slots=True)
class Advance:
    """Where one partition's committed messages reach after a batch."""

    epoch: int
    last_seq: int
    watermark: datetime | None


def claim(conn: Connection, partition: int, owner: str) -> Claim:
    """Take a partition (its own transaction): a new epoch, and where its committed messages end."""
    with conn.transaction():
        row = conn.execute(_CLAIM, {"partition": partition, "owner": owner}).fetchone()
    assert row is not None
    return Claim(partition, int(row[0]), int(row[1]), row[2])


def advance(conn: Connection, advances: Mapping[int, Advance]) -> None:
    """Record each partition's progress in the caller's transaction; Fenced if one was claimed since."""
    for partition in sorted(advances):  # a fixed order: two workers never wait on each other's rows
        a = advances[partition]
        cur = conn.execute(
            _ADVANCE,
            {"partition": partition, "epoch": a.epoch, "last_seq": a.last_seq, "watermark": a.watermark},
        )
        if cur.rowcount != 1:
            raise Fenced(partition, a.epoch)


def progress(conn: Connection) -> dict[int, tuple[str | None, int, int]]:
    """Every partition's (owner, epoch, last committed stream sequence)."""
    rows = conn.execute("SELECT partition, owner, epoch, last_seq FROM stream_partitions").fetchall()
    return {int(r[0]): (r[1], int(r[2]), int(r[3])) for r in rows}
