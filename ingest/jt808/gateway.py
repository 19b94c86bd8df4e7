"""The JT/T 808 TCP gateway: an asyncio server driving one pure Session per connection.

Theory of operation. Each connection's reader feeds what the socket gave to its Session and
runs the actions that come back. Send is written at once (registration answer, heartbeat
answer). Store becomes an Inbound in the ingestor's bounded Inbox, so the one batch writer
(ingest/service.py) decodes, validates, quarantines, deduplicates, runs the detectors and
commits it exactly like an MQTT message; after the commit the writer thread calls ack(), which
hands each Store's answer (0x8001) back to this loop for its connection. When the Inbox is
full the reader waits before reading on: the terminal's TCP window fills, nothing is dropped.
A connection that closes before its answers go out gets none; the terminal sends again.
"""

import asyncio
import itertools
import logging
import threading
import time
from collections.abc import Callable

from ingest.inbox import Inbox
from ingest.jt808.platform import Command
from ingest.jt808.session import Action, Lookup, Send, Session, State, Store
from ingest.link import Inbound
from storage.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

_READ_BYTES = 65536
# The Inbound "connection" of gateway messages: never an MQTT one, so an ingestor holding both
# kinds in one Inbox acknowledges each to its own side (MQTT packet ids and tokens may collide).
NATIVE_GENERATION = -1


class _Connection:
    def __init__(self, session: Session, writer: asyncio.StreamWriter) -> None:
        self.session = session
        self.writer = writer
        self.tokens: set[int] = set()
        self.closed = False

    def send(self, data: bytes) -> None:
        if data and not self.closed and not self.writer.is_closing():
            self.writer.write(data)


class Gateway:
    """Sessions of the connected terminals and the answers they are owed after commit."""

    def __init__(
        self,
        *,
        inbox: Inbox[Inbound],
        is_registered: Callable[[str], bool],
        secret: bytes,
        require_auth: bool = True,
        idle_timeout_s: float = 600.0,
    ) -> None:
        self._inbox = inbox
        self._is_registered = is_registered
        self._secret = secret
        self._require_auth = require_auth
        self._idle_s = idle_timeout_s
        self._tokens = itertools.count(1)
        self._owed: dict[int, tuple[_Connection, bytes]] = {}
        self._lock = threading.Lock()
        self._by_phone: dict[str, _Connection] = {}
        self._connections: set[_Connection] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.frames_in = 0
        self.answers_sent = 0

    async def start(self, host: str, port: int) -> asyncio.Server:
        """Listen; returns the server (its sockets say the bound port)."""
        self._loop = asyncio.get_running_loop()
        return await asyncio.start_server(self._serve, host, port, limit=_READ_BYTES)

    async def close_all(self) -> None:
        """Close every connection, handing what they leave behind to the store."""
        for conn in list(self._connections):
            conn.writer.close()
        while self._connections:
            await asyncio.sleep(0.01)

    def ack(self, batch: list[Inbound]) -> int:
        """After commit (writer thread): send each committed message's answer to its connection."""
        owed: list[tuple[_Connection, bytes]] = []
        with self._lock:
            for item in batch:
                if item.generation != NATIVE_GENERATION:
                    continue
                entry = self._owed.pop(item.mid, None)
                if entry is not None:
                    entry[0].tokens.discard(item.mid)
                    owed.append(entry)
        if owed and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._send_owed, owed)
        return len(owed)

    def command(self, phone: str, command: Command) -> bool:
        """Send a platform command to a connected terminal (event-loop thread); False when absent."""
        conn = self._by_phone.get(phone)
        if conn is None or conn.closed:
            return False
        for action in conn.session.command(command):
            if isinstance(action, Send):
                conn.send(action.frame)
        return True

    def _send_owed(self, owed: list[tuple[_Connection, bytes]]) -> None:
        for conn, reply in owed:
            conn.send(reply)
            self.answers_sent += 1

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = _Connection(Session(secret=self._secret, require_auth=self._require_auth), writer)
        self._connections.add(conn)
        peer = writer.get_extra_info("peername")
        try:
            while True:
                try:
                    data = await asyncio.wait_for(reader.read(_READ_BYTES), self._idle_s)
                except TimeoutError:
                    log.info("terminal %s at %s silent for %.0fs; closing", conn.session.phone, peer, self._idle_s)
                    break
                if not data:
                    break
                await self._run(conn, conn.session.receive(data), time.time())
        except (ConnectionError, OSError) as exc:
            log.info("terminal %s at %s: connection lost (%s)", conn.session.phone, peer, exc)
        except Exception:  # a bug must cost this connection (the terminal reconnects), never the server
            log.exception("terminal %s at %s: closing after an unexpected error", conn.session.phone, peer)
        finally:
            conn.closed = True
            await self._run(conn, conn.session.close(), time.time())
            with self._lock:
                for token in conn.tokens:
                    self._owed.pop(token, None)
            if conn.session.phone is not None and self._by_phone.get(conn.session.phone) is conn:
                del self._by_phone[conn.session.phone]
            writer.close()
            self._connections.discard(conn)

    async def _run(self, conn: _Connection, actions: list[Action], received_at: float) -> None:
        for action in actions:
            if isinstance(action, Send):
                conn.send(action.frame)
            elif isinstance(action, Store):
                await self._store(conn, action, received_at)
            elif isinstance(action, Lookup):
                await self._run(conn, await self._lookup(conn, action), received_at)
        phone = conn.session.phone
        if conn.session.state is State.AUTHENTICATED and phone is not None and not conn.closed:
            self._by_phone[phone] = conn  # the newest authenticated connection gets the commands

    async def _store(self, conn: _Connection, action: Store, received_at: float) -> None:
        token = next(self._tokens)
        if action.reply and not conn.closed:
            with self._lock:
                self._owed[token] = (conn, action.reply)
                conn.tokens.add(token)
        item = Inbound(action.topic, action.payload, received_at, token, 1, NATIVE_GENERATION)
        self.frames_in += 1
        # Never block the event loop: when the Inbox is full, wait for room on a worker thread
        # (this connection stops being read meanwhile; the others go on).
        if not self._inbox.offer(item):
            await asyncio.to_thread(self._inbox.put, item)

    async def _lookup(self, conn: _Connection, lookup: Lookup) -> list[Action]:
        try:
            known = await asyncio.to_thread(self._is_registered, lookup.phone)
        except DatabaseUnavailable as exc:
            # No answer: the terminal registers again later, when the database may be back.
            log.warning("registration of %s not answered: %s", lookup.phone, exc)
            return []
        if not known:
            log.warning("registration refused: %s is not a registered device", lookup.phone)
        return conn.session.registered(lookup, known)
