"""A JT/T 808 gateway run in a thread of the test process, and a blocking socket terminal
that sends hand-built frames (tests/unit/jt808_bytes) and reads the gateway's answers."""

import socket
import struct
import threading
import time
from datetime import UTC, datetime, timedelta

from ingest.jt808 import runner
from lienwatch import wiring
from lienwatch.settings import Settings
from tests.unit.jt808_bytes import frame
from wire.jt808.framing import Deframer, unwrap
from wire.jt808.header import Packet, parse_packet

SECRET = "integration-secret"


def bcd_time(moment: datetime) -> str:
    """A UTC moment as a terminal's YYMMDDhhmmss in UTC+8."""
    return (moment.astimezone(UTC) + timedelta(hours=8)).strftime("%y%m%d%H%M%S")


class RunningGateway:
    """`lienwatch gateway jt808` in a thread, on a free port."""

    def __init__(self, db_url: str, mqtt_url: str | None = None, **overrides: object) -> None:
        self.settings = Settings(
            database_url=db_url,
            jt808_auth_secret=SECRET,  # type: ignore[arg-type]
            flush_ms=50,
            metrics_port=0,
            **overrides,  # type: ignore[arg-type]
        )
        self.stop_event = threading.Event()
        self.process = wiring.gateway_process(self.settings, database_url=db_url)
        self.thread = threading.Thread(
            target=runner.run,
            args=(self.process, self.stop_event),
            kwargs={"host": "127.0.0.1", "port": 0, "mqtt_url": mqtt_url},
            daemon=True,
        )

    @property
    def port(self) -> int:
        return self.process.port

    def __enter__(self) -> "RunningGateway":
        self.thread.start()
        if not self.process.ready.wait(10):
            raise RuntimeError("gateway did not start")
        if self.thread._kwargs["mqtt_url"] and not self.process.commands_ready.wait(10):  # type: ignore[attr-defined]
            raise RuntimeError("the command relay did not subscribe")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        self.thread.join(30)


class SocketTerminal:
    """A terminal on a real TCP socket: send bytes, read answers."""

    def __init__(self, port: int, phone: str) -> None:
        self.phone = phone
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.deframer = Deframer()
        self.answers: list[Packet] = []
        self.serial = 100

    def send(self, raw: bytes) -> None:
        self.sock.sendall(raw)

    def next_serial(self) -> int:
        self.serial += 1
        return self.serial

    def answer(self, msg_id: int, timeout: float = 10.0) -> Packet:
        """The next answer of this id (others are kept)."""
        deadline = time.monotonic() + timeout
        while True:
            for packet in self.answers:
                if packet.header.msg_id == msg_id:
                    self.answers.remove(packet)
                    return packet
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no 0x{msg_id:04x} answer")
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("gateway closed the connection")
            self.answers.extend(parse_packet(unwrap(raw)) for raw in self.deframer.feed(data))

    def silent(self, seconds: float) -> bool:
        """True when nothing arrives for this long."""
        self.sock.settimeout(seconds)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return True
        self.answers.extend(parse_packet(unwrap(raw)) for raw in self.deframer.feed(data))
        return False

    def register(self) -> Packet:
        body = struct.pack(">HH", 31, 100) + b"MAKER" + b"M1".ljust(20, b"\x00") + b"T000001" + b"\x01" + b"A12345"
        self.send(frame(0x0100, body, serial=self.next_serial(), phone=self.phone))
        return self.answer(0x8100)

    def login(self) -> str:
        """Register and authenticate; the auth code."""
        answer = self.register()
        assert answer.body[2] == 0, answer
        code = answer.body[3:]
        self.send(frame(0x0102, code, serial=self.next_serial(), phone=self.phone))
        assert self.answer(0x8001).body[4] == 0
        return code.decode()

    def close(self) -> None:
        self.sock.close()
