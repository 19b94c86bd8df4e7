"""Killing the gateway before it commits loses nothing: no report was answered, so the terminal
sends them again to the restarted gateway, which stores each once and answers them all."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from lienwatch.embedded import free_port
from tests.integration.jt808_harness import SECRET, SocketTerminal, bcd_time
from tests.support.ingest_harness import count, register
from tests.unit.jt808_bytes import frame, location

pytestmark = [pytest.mark.db, pytest.mark.slow]

PHONE = "013912345000"
REPORTS = 50


def start_gateway(db: str, port: int, **env: str) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "LIENWATCH_DATABASE_URL": db,
        "LIENWATCH_JT808_AUTH_SECRET": SECRET,
        "LIENWATCH_DETECTORS": "false",
        **env,
    }
    environment.pop("LIENWATCH_MQTT_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "lienwatch", "gateway", "jt808", "--host", "127.0.0.1", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the gateway did not start listening")


@pytest.fixture
def port() -> Iterator[int]:
    yield free_port()


def test_a_gateway_killed_before_commit_loses_nothing(ingest_db: str, port: int) -> None:
    register(ingest_db, PHONE)
    # A batch that would wait a minute for more: the kill comes first, nothing is committed.
    slow = start_gateway(ingest_db, port, LIENWATCH_FLUSH_MS="60000", LIENWATCH_BATCH_SIZE="100000")
    start = datetime.now(UTC) - timedelta(hours=2)
    reports = [
        frame(0x0200, location(time=bcd_time(start + timedelta(minutes=i))), serial=200 + i, phone=PHONE)
        for i in range(REPORTS)
    ]
    try:
        terminal = SocketTerminal(port, PHONE)
        code = terminal.login()
        for raw in reports:
            terminal.send(raw)
        assert terminal.silent(1.5), "a report was answered before its commit"
    finally:
        slow.send_signal(signal.SIGKILL)
        slow.wait(10)
    terminal.close()
    assert count(ingest_db, "SELECT count(*) FROM positions") == 0

    again = start_gateway(ingest_db, port)
    try:
        terminal = SocketTerminal(port, PHONE)
        # Terminals authenticate on every connection with the code they were given.
        terminal.send(frame(0x0102, code.encode(), serial=1, phone=PHONE))
        assert terminal.answer(0x8001).body[4] == 0
        for raw in reports:
            terminal.send(raw)
        answered = {int.from_bytes(terminal.answer(0x8001).body[:2], "big") for _ in reports}
        assert answered == {200 + i for i in range(REPORTS)}
        assert count(ingest_db, "SELECT count(*) FROM positions WHERE device_id = %s", PHONE) == REPORTS
        # Answers lost on the way are resent for: stored once, answered again.
        for raw in reports[:10]:
            terminal.send(raw)
        for _ in range(10):
            terminal.answer(0x8001)
        assert count(ingest_db, "SELECT count(*) FROM positions WHERE device_id = %s", PHONE) == REPORTS
        terminal.close()
    finally:
        again.terminate()
        again.wait(30)
