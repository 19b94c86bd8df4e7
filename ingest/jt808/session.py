"""One terminal connection as a state machine with no I/O: bytes in, actions out (h11's shape).

Theory of operation. The shell feeds whatever the socket gave; the session cuts frames, checks
them, reassembles subpackages and answers by the table in messages.UPLINK:

| message            | not authenticated                          | authenticated                 |
|--------------------|--------------------------------------------|-------------------------------|
| 0x0100 register    | Lookup -> 0x8100 + auth code, or refused    | same                          |
| 0x0102 authenticate| code right: authenticated, 0x8001 ok; wrong: refused, 0x8001 failure | same   |
| 0x0002 heartbeat   | 0x8001 ok                                  | 0x8001 ok                     |
| 0x0003 logout      | 0x8001 ok                                  | 0x8001 ok, not authenticated  |
| 0x0200/0201/0704   | refused (quarantined), 0x8001 failure      | Store, 0x8001 ok after commit |
| 0x0001 answer      | nothing                                    | nothing                       |
| other id, bad frame| quarantined (0x8001 not supported / none)  | same                          |

A Store carries the raw frames for the batch writer and the answer to send only once the
transaction holding them has committed: a gateway that dies before that has answered nothing,
so the terminal sends again and the (device, fix time) key makes the second copy a no-op. A
refused message is stored too (into the quarantine) and answered after that commit.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from ingest.jt808 import platform
from ingest.jt808.uplink import check_packages, handling, native_topic
from wire.jt808.errors import FrameError, Jt808Error
from wire.jt808.framing import Deframer, unwrap
from wire.jt808.header import Header, parse_packet
from wire.jt808.messages import Handling, MessageId, RegisterResult, Result
from wire.jt808.reassembly import Reassembler


@dataclass(frozen=True, slots=True)
class Send:
    """Bytes to write to the terminal now."""

    frame: bytes


@dataclass(frozen=True, slots=True)
class Store:
    """Raw frames for the batch writer; `reply` goes to the terminal once they are committed."""

    topic: str
    payload: bytes
    reply: bytes = b""


@dataclass(frozen=True, slots=True)
class Lookup:
    """A registration: the shell asks whether the phone is a registered device, then calls registered()."""

    phone: str
    header: Header
    payload: bytes


Action = Send | Store | Lookup


class State(StrEnum):
    CONNECTED = "connected"
    AUTHENTICATED = "authenticated"


class Session:
    """The protocol state of one TCP connection."""

    def __init__(self, *, secret: bytes, require_auth: bool = True, max_partial: int = 16) -> None:
        self._secret = secret
        self._require_auth = require_auth
        self._deframer = Deframer()
        self._reassembler = Reassembler(max_partial)
        self._serial = 0
        self.state = State.CONNECTED
        self.phone: str | None = None  # the authenticated terminal, or the last one heard from
        self.terminal: Header | None = None  # the last good header: edition and phone for downlink

    def receive(self, data: bytes) -> list[Action]:
        """Actions for bytes read from the socket."""
        actions: list[Action] = []
        for raw in self._deframer.feed(data):
            actions.extend(self._frame(raw))
        return actions

    def registered(self, lookup: Lookup, known: bool) -> list[Action]:
        """The answer to a registration, once the shell knows whether the phone is registered."""
        header = lookup.header
        if known:
            code = platform.auth_code(self._secret, lookup.phone)
            body = platform.register_response(header.serial, RegisterResult.OK, code)
            return [Send(self._platform(MessageId.REGISTER_RESPONSE, body, header))]
        body = platform.register_response(header.serial, RegisterResult.NO_SUCH_TERMINAL, None)
        refusal = self._platform(MessageId.REGISTER_RESPONSE, body, header)
        return [Store(native_topic(lookup.phone, refused=True), lookup.payload, refusal)]

    def command(self, command: platform.Command) -> list[Action]:
        """A platform message for this terminal (nothing before it has been heard from)."""
        if self.terminal is None:
            return []
        return [Send(self._platform(command.msg_id, command.body(), self.terminal))]

    def close(self) -> list[Action]:
        """What a closed connection leaves: a cut frame, unfinished subpackages (all quarantined)."""
        actions: list[Action] = []
        left = self._deframer.pending()
        if left:
            actions.append(Store(native_topic(self.phone), left))
        actions.extend(Store(native_topic(self.phone), b"".join(frames)) for frames in self._reassembler.drain())
        return actions

    def _frame(self, raw: bytes) -> list[Action]:
        try:
            packet = parse_packet(unwrap(raw))
        except FrameError:
            # No answer: the terminal sends a frame it got no answer for again, intact this time.
            return [Store(native_topic(self.phone), raw)]
        header = packet.header
        if not header.subpackaged:
            return self._message(header, packet.body, raw, (header.serial,))
        try:
            check_packages(header)
        except Jt808Error:  # not reassembled: each package is refused on its own
            answer = self._answers(header, (header.serial,), Result.UNSUPPORTED)
            return [Store(native_topic(header.phone), raw, answer)]
        done, evicted = self._reassembler.add(packet, raw)
        actions: list[Action] = [Store(native_topic(self.phone), b"".join(frames)) for frames in evicted]
        if done is not None:
            actions.extend(self._message(done.header, done.body, b"".join(done.frames), done.serials))
        return actions

    def _message(self, header: Header, body: bytes, payload: bytes, serials: Sequence[int]) -> list[Action]:
        self.terminal = header
        if self.phone is None:
            self.phone = header.phone
        try:
            kind = handling(header.msg_id)
        except Jt808Error:
            return [Store(native_topic(header.phone), payload, self._answers(header, serials, Result.UNSUPPORTED))]
        if header.encryption:
            return [Store(native_topic(header.phone), payload, self._answers(header, serials, Result.UNSUPPORTED))]
        if kind is Handling.REGISTER:
            return [Lookup(header.phone, header, payload)]
        if kind is Handling.AUTHENTICATE:
            return self._authenticate(header, body, payload)
        if kind is Handling.ANSWER:
            return [Send(self._answers(header, serials, Result.OK))]
        if kind is Handling.LOGOUT:
            self.state = State.CONNECTED
            return [Send(self._answers(header, serials, Result.OK))]
        if kind is Handling.NOTE:
            return []
        allowed = not self._require_auth or (self.state is State.AUTHENTICATED and header.phone == self.phone)
        if not allowed:
            refusal = self._answers(header, serials, Result.FAILURE)
            return [Store(native_topic(header.phone, refused=True), payload, refusal)]
        return [Store(native_topic(header.phone), payload, self._answers(header, serials, Result.OK))]

    def _authenticate(self, header: Header, body: bytes, payload: bytes) -> list[Action]:
        expected = platform.auth_code(self._secret, header.phone)
        if _auth_code_of(body, header) == expected:
            self.state = State.AUTHENTICATED
            self.phone = header.phone
            return [Send(self._answers(header, (header.serial,), Result.OK))]
        refusal = self._answers(header, (header.serial,), Result.FAILURE)
        return [Store(native_topic(header.phone, refused=True), payload, refusal)]

    def _answers(self, header: Header, serials: Sequence[int], result: Result) -> bytes:
        """One 0x8001 per package answered, concatenated."""
        return b"".join(
            self._platform(MessageId.PLATFORM_RESPONSE, platform.general_response(s, header.msg_id, result), header)
            for s in serials
        )

    def _platform(self, msg_id: int, body: bytes, to: Header) -> bytes:
        serial = self._serial
        self._serial = (self._serial + 1) & 0xFFFF
        return platform.frame(msg_id, body, to=to, serial=serial)


def _auth_code_of(body: bytes, header: Header) -> str:
    """The code in an authentication body: all of it in 2013; length-prefixed in 2019 (then IMEI, version)."""
    prefixed = header.version is not None and body and 1 + body[0] <= len(body)
    code = body[1 : 1 + body[0]] if prefixed else body
    return code.decode("ascii", errors="replace").rstrip("\x00")
