"""The quarantine: every message the ingestor refused, with topic, raw bytes and reason."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.database import Connection

_COPY = "COPY quarantine (received_at, topic, payload, reason, detail, device_id) FROM STDIN (FORMAT BINARY)"
_TYPES = ("timestamptz", "text", "bytea", "text", "text", "text")


@dataclass(frozen=True, slots=True)
class QuarantineRow:
    received_at: datetime
    topic: str
    payload: bytes
    reason: str
    detail: str
    device_id: str | None


@dataclass(frozen=True, slots=True)
class QuarantineEntry:
    quarantine_id: int
    received_at: datetime
    topic: str
    payload: bytes
    reason: str
    detail: str | None
    device_id: str | None


def insert(conn: Connection, rows: Sequence[QuarantineRow]) -> None:
    """Store rejects; call inside the batch transaction so they commit with the accepted rows."""
    if not rows:
        return
    with conn.cursor() as cur, cur.copy(_COPY) as copy:
        copy.set_types(_TYPES)
        for r in rows:
            copy.write_row((r.received_at, r.topic, r.payload, r.reason, r.detail, r.device_id))


def pending(
    conn: Connection, *, reason: str | None = None, limit: int = 1000, after_id: int = 0
) -> list[QuarantineEntry]:
    """Entries not yet replayed, oldest first, optionally of one reason."""
    rows = conn.execute(
        """
        SELECT quarantine_id, received_at, topic, payload, reason, detail, device_id
        FROM quarantine
        WHERE replayed_at IS NULL
          AND (%(reason)s::text IS NULL OR reason = %(reason)s)
          AND quarantine_id > %(after)s
        ORDER BY quarantine_id
        LIMIT %(limit)s
        """,
        {"reason": reason, "limit": limit, "after": after_id},
    ).fetchall()
    return [QuarantineEntry(*row) for row in rows]


def counts(conn: Connection) -> list[tuple[str, int, int]]:
    """(reason, pending, replayed) for every reason seen."""
    rows = conn.execute(
        """
        SELECT reason,
               count(*) FILTER (WHERE replayed_at IS NULL),
               count(*) FILTER (WHERE replayed_at IS NOT NULL)
        FROM quarantine
        GROUP BY reason
        ORDER BY reason
        """
    ).fetchall()
    return [(r, int(p), int(d)) for r, p, d in rows]


def mark_replayed(conn: Connection, ids: Sequence[int]) -> None:
    """Record that these entries were stored on replay."""
    conn.execute("UPDATE quarantine SET replayed_at = now() WHERE quarantine_id = ANY(%s)", (list(ids),))
