"""Replaying quarantined messages, e.g. once their device is registered."""

from collections import Counter
from dataclasses import dataclass, field

from ingest.decode import Limits, decode
from ingest.store import BatchStore, Message
from storage import quarantine
from storage.database import Connection
from storage.devices import known_device_ids


@dataclass
class ReplayReport:
    replayed: int = 0
    positions_stored: int = 0
    still_refused: Counter[str] = field(default_factory=Counter)


def replay(
    conn: Connection, store: BatchStore, limits: Limits, *, reason: str | None, chunk: int = 1000
) -> ReplayReport:
    """Re-decode pending entries; store those that now pass and mark them replayed."""
    report = ReplayReport()
    after = 0
    while True:
        entries = quarantine.pending(conn, reason=reason, limit=chunk, after_id=after)
        if not entries:
            return report
        after = entries[-1].quarantine_id
        known = known_device_ids(conn)
        ready: list[Message] = []
        ids: list[int] = []
        for entry in entries:
            decoded = decode(entry.topic, entry.payload, entry.received_at, limits)
            if not decoded.positions:
                report.still_refused[decoded.rejects[0].reason.value if decoded.rejects else entry.reason] += 1
            elif decoded.device_id not in known:
                report.still_refused["unknown_device"] += 1
            else:
                ready.append(Message(entry.topic, entry.payload, entry.received_at, decoded))
                ids.append(entry.quarantine_id)
        if ready:

            def mark(c: Connection, done: list[int] = ids) -> None:
                quarantine.mark_replayed(c, done)

            stored = store.store(ready, within=mark)
            report.replayed += len(ids)
            report.positions_stored += len(stored.new)
