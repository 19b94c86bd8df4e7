"""Simulated JT/T 808 terminals: the fleet's fixes as location reports over TCP to the gateway.

Each device of the fleet becomes a terminal known by a phone number made from its id (12 digits,
the 2013 edition), registered beside it on the same vehicle. A terminal connects, registers,
authenticates, then sends each contract message as a 0x0200 (or a buffered array as a 0x0704
bulk upload) and keeps every report until the gateway's 0x8001 for it arrives: on a lost
connection it reconnects, authenticates again and resends them, as real terminals do.
"""

import asyncio
import contextlib
import struct
import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import orjson

from domain.assets import Device
from domain.ids import DeviceId
from simulators.payloads import Message
from storage.database import Connection
from storage.devices import register_devices
from wire.jt808.fields import terminal_digits
from wire.jt808.framing import Deframer, unwrap, wrap
from wire.jt808.header import Header, encode_packet, parse_packet
from wire.jt808.location import ACC_ON, ALARM_NAMES, POSITIONED, SOUTH, WEST, LocationReport, encode_location
from wire.jt808.messages import MessageId

_ALARM_FLAGS = {name: 1 << bit for bit, name in sorted(ALARM_NAMES.items(), reverse=True)}


class TerminalError(RuntimeError):
    """The gateway refused the terminal or did not answer in time."""


def phone_of(device_id: str) -> str:
    """A stable 12-digit phone number for a simulated device (leading 1, like a mobile number)."""
    digest = zlib.crc32(device_id.encode()) * 2654435761 + zlib.adler32(device_id.encode())
    return f"01{digest % 10**10:010d}"


def phone_devices(devices: Iterable[Device]) -> list[Device]:
    """The fleet's devices as JT/T 808 terminals: same vehicle and cadence, the phone as the id."""
    return [replace(d, device_id=DeviceId(phone_of(d.device_id))) for d in devices]


def report_of(fix: Mapping[str, Any]) -> LocationReport:
    """One contract fix as the integers a terminal sends."""
    ts = fix["ts"]
    moment = datetime.fromtimestamp(ts, UTC) if isinstance(ts, (int, float)) else datetime.fromisoformat(ts)
    lat, lon = float(fix["lat"]), float(fix["lon"])
    status = POSITIONED | (ACC_ON if fix.get("ignition") else 0) | (SOUTH if lat < 0 else 0) | (WEST if lon < 0 else 0)
    alarm = 0
    for name in fix.get("alarms") or ():
        alarm |= _ALARM_FLAGS.get(name, 0)
    accuracy = fix.get("accuracy_m")
    if fix.get("source", "gps") != "gps":
        satellites = 0  # a cell or Wi-Fi fix: the gateway takes it as coarse, as the contract does
    elif accuracy is None or accuracy <= 20:
        satellites = 9
    else:
        satellites = 5 if accuracy <= 60 else 3
    return LocationReport(
        alarm=alarm,
        status=status,
        lat_e6=round(abs(lat) * 1e6),
        lon_e6=round(abs(lon) * 1e6),
        altitude_m=0,
        speed_e1=round(float(fix.get("speed_kmh") or 0.0) * 10),
        direction=round(float(fix.get("heading") or 0.0)) % 360,
        time=terminal_digits(moment),
        satellites=satellites,
    )


def message_body(payload: bytes) -> tuple[int, bytes] | None:
    """A contract payload as (message id, body): one fix -> 0x0200, an array -> 0x0704; None if malformed."""
    try:
        body = orjson.loads(payload)
        if isinstance(body, dict):
            return MessageId.LOCATION, encode_location(report_of(body))
        if isinstance(body, list) and body:
            reports = [encode_location(report_of(fix)) for fix in body]
            items = b"".join(struct.pack(">H", len(r)) + r for r in reports)
            return MessageId.BULK_LOCATION, struct.pack(">HB", len(reports), 0) + items
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
        return None
    return None


@dataclass
class Terminal:
    """One simulated terminal on its own TCP connection."""

    phone: str
    host: str
    port: int
    auth_code: str | None = None
    unacked: dict[int, bytes] = field(default_factory=dict)  # serial -> frame sent, not yet answered
    acked: int = 0
    _serial: int = 0
    _reader: asyncio.StreamReader | None = None
    _writer: asyncio.StreamWriter | None = None
    _pump: asyncio.Task[None] | None = None
    _answers: asyncio.Queue[tuple[int, bytes]] = field(default_factory=asyncio.Queue)
    _settled: asyncio.Event = field(default_factory=asyncio.Event)

    def frame(self, msg_id: int, body: bytes) -> tuple[int, bytes]:
        """The next serial and a frame of this terminal."""
        serial = self._serial
        self._serial = (self._serial + 1) & 0xFFFF
        return serial, wrap(encode_packet(Header(msg_id, self.phone, serial), body))

    async def connect(self, timeout: float = 10.0) -> None:
        """Connect, register when there is no auth code yet, authenticate; resend what is unanswered."""
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        self._answers = asyncio.Queue()
        self._pump = asyncio.create_task(self._read())
        if self.auth_code is None:
            await self.register(timeout)
        if not await self.authenticate(timeout):
            await self.register(timeout)  # e.g. the gateway's secret changed: register again
            if not await self.authenticate(timeout):
                raise TerminalError(f"{self.phone}: authentication refused")
        for frame in list(self.unacked.values()):
            self._writer.write(frame)
        await self._writer.drain()

    async def register(self, timeout: float) -> None:
        """0x0100 -> 0x8100: keep the auth code, or TerminalError when refused."""
        body = struct.pack(">HH", 31, 100) + b"LWSIM" + b"SIM-1".ljust(20, b"\x00") + b"0000001" + b"\x01" + b"SIM"
        _, frame = self.frame(MessageId.REGISTER, body)
        answer = await self._exchange(frame, MessageId.REGISTER_RESPONSE, timeout)
        if len(answer) < 3 or answer[2] != 0:
            raise TerminalError(f"{self.phone}: registration refused (result {answer[2] if len(answer) > 2 else '?'})")
        self.auth_code = answer[3:].decode("ascii")

    async def authenticate(self, timeout: float) -> bool:
        """0x0102 with the auth code; True when the gateway answers 0x8001 ok."""
        assert self.auth_code is not None
        _, frame = self.frame(MessageId.AUTHENTICATE, self.auth_code.encode("ascii"))
        answer = await self._exchange(frame, MessageId.PLATFORM_RESPONSE, timeout)
        return len(answer) == 5 and answer[4] == 0

    async def send(self, msg_id: int, body: bytes) -> None:
        """Send one report and keep it until answered."""
        assert self._writer is not None
        serial, frame = self.frame(msg_id, body)
        self.unacked[serial] = frame
        self._settled.clear()
        self._writer.write(frame)
        if self._writer.transport.get_write_buffer_size() > 1 << 16:
            await self._writer.drain()

    async def settled(self, timeout: float) -> bool:
        """Wait until every report sent has been answered."""
        if not self.unacked:
            return True
        try:
            await asyncio.wait_for(self._settled.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        """Close the connection (unanswered reports are kept for the next connect)."""
        if self._pump is not None:
            self._pump.cancel()
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self._writer.wait_closed()

    async def _exchange(self, frame: bytes, answer_id: int, timeout: float) -> bytes:
        assert self._writer is not None
        self._writer.write(frame)
        await self._writer.drain()
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TerminalError(f"{self.phone}: no 0x{answer_id:04x} within {timeout:g}s")
            try:
                msg_id, body = await asyncio.wait_for(self._answers.get(), left)
            except TimeoutError as exc:
                raise TerminalError(f"{self.phone}: no 0x{answer_id:04x} within {timeout:g}s") from exc
            if msg_id == answer_id:
                return body

    async def _read(self) -> None:
        assert self._reader is not None
        deframer = Deframer()
        while True:
            try:
                data = await self._reader.read(65536)
            except (ConnectionError, OSError):
                return
            if not data:
                return
            for raw in deframer.feed(data):
                packet = parse_packet(unwrap(raw))
                body = packet.body
                if packet.header.msg_id == MessageId.PLATFORM_RESPONSE and len(body) == 5:
                    serial, answered = struct.unpack_from(">HH", body)
                    if answered in (MessageId.LOCATION, MessageId.BULK_LOCATION) and body[4] == 0:
                        if self.unacked.pop(serial, None) is not None:
                            self.acked += 1
                        if not self.unacked:
                            self._settled.set()
                        continue
                self._answers.put_nowait((packet.header.msg_id, body))


@dataclass(frozen=True, slots=True)
class DriveReport:
    sent: int
    acked: int
    skipped: int  # malformed contract payloads, which have no JT/T 808 form
    seconds: float

    @property
    def rate(self) -> float:
        """Answered reports per second."""
        return self.acked / self.seconds if self.seconds > 0 else 0.0


async def drive(host: str, port: int, messages: Iterable[Message], *, timeout_s: float = 120.0) -> DriveReport:
    """Send a fleet's messages over one terminal per device, in order; wait for every answer."""
    terminals: dict[str, Terminal] = {}
    sent = skipped = 0
    start = time.monotonic()
    for message in messages:
        encoded = message_body(message.payload)
        if encoded is None:
            skipped += 1
            continue
        device = message.topic.split("/")[1]
        terminal = terminals.get(device)
        if terminal is None:
            terminal = terminals[device] = Terminal(phone_of(device), host, port)
            await terminal.connect()
        await terminal.send(*encoded)
        sent += 1
    done = await asyncio.gather(*(t.settled(timeout_s) for t in terminals.values()))
    seconds = time.monotonic() - start
    await asyncio.gather(*(t.close() for t in terminals.values()))
    if not all(done):
        missing = sum(len(t.unacked) for t in terminals.values())
        raise TerminalError(f"{missing} report(s) not answered within {timeout_s:g}s")
    return DriveReport(sent, sum(t.acked for t in terminals.values()), skipped, seconds)


def address(text: str) -> tuple[str, int]:
    """host:port of a gateway."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"gateway: {text!r} is not host:port")
    return host, int(port)


def seed_terminals(conn: Connection, devices: Iterable[Device]) -> int:
    """Register the fleet's devices as terminals (phone ids) on the same vehicles; returns how many."""
    terminals = phone_devices(devices)
    with conn.transaction():
        register_devices(conn, terminals)
    return len(terminals)
