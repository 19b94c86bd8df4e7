"""Storing one decoded batch in one transaction: new positions and every reject together.

Registered devices are read once and refreshed on a miss (one query per batch at most);
a fix of an unregistered device quarantines its whole message as unknown_device, so it can
be replayed as it came once the device is registered.
"""

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg

from domain.ids import DeviceId
from domain.position import Position
from domain.vocabulary import RejectReason
from ingest.decode import Decoded
from ingest.pipeline import PositionSink, nothing_after
from storage import quarantine
from storage.database import Connection, connect
from storage.devices import known_device_ids
from storage.errors import DatabaseUnavailable, StorageError
from storage.migrate import current_layout
from storage.positions import PositionWriter
from storage.quarantine import QuarantineRow

log = logging.getLogger(__name__)

_MISS_TTL_S = 5.0  # how long an unknown device stays unknown before we ask the database again


@dataclass(frozen=True, slots=True)
class Message:
    """One received message and what decoding made of it."""

    topic: str
    payload: bytes
    received_at: datetime
    decoded: Decoded


@dataclass
class Stored:
    new: list[Position] = field(default_factory=list)
    duplicates: int = 0
    rejected: dict[str, int] = field(default_factory=dict)


def _is_transient(exc: psycopg.Error) -> bool:
    return isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError))


class BatchStore:
    """Owns one database connection; reconnects on demand after an outage."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._conn: Connection | None = None
        self._writer: PositionWriter | None = None
        self._known: set[DeviceId] = set()
        self._misses: dict[str, float] = {}

    def _connection(self) -> tuple[Connection, PositionWriter]:
        if self._conn is None or self._conn.closed or self._writer is None:
            conn = connect(self._url, autocommit=True)
            try:
                layout = current_layout(conn)
                if layout is None:
                    raise StorageError("positions do not exist: run `lienwatch db migrate` first")
                self._writer = PositionWriter(conn, layout)
                self._known = known_device_ids(conn)
            except psycopg.Error as exc:
                conn.close()
                raise DatabaseUnavailable(f"database not ready: {exc}") from exc
            self._conn = conn
        return self._conn, self._writer

    def close(self) -> None:
        """Close the connection, if open."""
        if self._conn is not None:
            self._conn.close()
        self._conn = None

    def store(
        self,
        messages: Sequence[Message],
        *,
        sink: PositionSink | None = None,
        within: Callable[[Connection], None] | None = None,
    ) -> Stored:
        """Store a batch atomically; raises DatabaseUnavailable (retry later) on an outage.

        The sink (the detectors) judges the new positions inside the same transaction; `within`
        runs there too (quarantine replay marks its entries).
        """
        try:
            conn, writer = self._connection()
            self._refresh_known(conn, messages)
            positions, rejects = self._split(messages)
            writer.ensure_days(positions)
            try:
                with conn.transaction():
                    new = writer.insert(positions)
                    quarantine.insert(conn, rejects)
                    after = _judge(conn, sink, new)
                    if within is not None:
                        within(conn)
            except psycopg.Error as exc:
                if _is_transient(exc) or within is not None:
                    raise
                log.warning("batch refused by the database (%s); storing message by message", exc)
                return self._one_by_one(conn, writer, messages, sink)
        except psycopg.Error as exc:
            self.close()
            raise DatabaseUnavailable(str(exc)) from exc
        after()
        return _outcome(positions, new, rejects)

    def _refresh_known(self, conn: Connection, messages: Sequence[Message]) -> None:
        now = time.monotonic()
        unknown = {
            m.decoded.device_id
            for m in messages
            if m.decoded.device_id is not None
            and m.decoded.device_id not in self._known
            and self._misses.get(m.decoded.device_id, 0.0) <= now
        }
        if not unknown:
            return
        found = known_device_ids(conn, unknown)
        self._known |= found
        for device in unknown - found:
            self._misses[device] = now + _MISS_TTL_S

    def _split(self, messages: Sequence[Message]) -> tuple[list[Position], list[QuarantineRow]]:
        positions: list[Position] = []
        rejects: list[QuarantineRow] = []
        for m in messages:
            d = m.decoded
            if d.positions and d.device_id not in self._known:
                rejects.append(
                    QuarantineRow(
                        m.received_at,
                        m.topic,
                        m.payload,
                        RejectReason.UNKNOWN_DEVICE.value,
                        f"device {d.device_id!r} is not registered",
                        d.device_id,
                    )
                )
                continue
            positions.extend(d.positions)
            rejects.extend(
                QuarantineRow(m.received_at, m.topic, r.payload, r.reason.value, r.detail, r.device_id)
                for r in d.rejects
            )
        return positions, rejects

    def _one_by_one(
        self, conn: Connection, writer: PositionWriter, messages: Sequence[Message], sink: PositionSink | None
    ) -> Stored:
        total = Stored()
        for m in messages:
            positions, rejects = self._split([m])
            try:
                with conn.transaction():
                    new = writer.insert(positions)
                    quarantine.insert(conn, rejects)
                    after = _judge(conn, sink, new)
                after()
                part = _outcome(positions, new, rejects)
            except psycopg.Error as exc:
                if _is_transient(exc):
                    raise
                row = QuarantineRow(
                    m.received_at,
                    m.topic,
                    m.payload,
                    RejectReason.STORE_ERROR.value,
                    f"database refused it: {exc}"[:500],
                    m.decoded.device_id,
                )
                with conn.transaction():
                    quarantine.insert(conn, [row])
                part = Stored(rejected={RejectReason.STORE_ERROR.value: 1})
            total.new.extend(part.new)
            total.duplicates += part.duplicates
            for reason, n in part.rejected.items():
                total.rejected[reason] = total.rejected.get(reason, 0) + n
        return total


def _judge(conn: Connection, sink: PositionSink | None, new: list[Position]) -> Callable[[], None]:
    """Run the detectors in a savepoint: their failure must never cost the batch its positions."""
    if sink is None or not new:
        return nothing_after
    try:
        with conn.transaction():
            return sink.evaluate(conn, new)
    except psycopg.Error as exc:
        if _is_transient(exc):
            raise
        log.exception("detectors failed on a batch of %d positions; positions kept, alerts skipped", len(new))
    except Exception:
        log.exception("detectors failed on a batch of %d positions; positions kept, alerts skipped", len(new))
    return nothing_after


def _outcome(positions: list[Position], new: list[Position], rejects: list[QuarantineRow]) -> Stored:
    rejected: dict[str, int] = {}
    for r in rejects:
        rejected[r.reason] = rejected.get(r.reason, 0) + 1
    return Stored(new=new, duplicates=len(positions) - len(new), rejected=rejected)


def utc(epoch: float) -> datetime:
    """An epoch float as an aware UTC datetime."""
    return datetime.fromtimestamp(epoch, UTC)
