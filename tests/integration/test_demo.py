"""`lienwatch demo` as a person runs it, in a process of its own with the embedded PostgreSQL and
broker: a taken port is refused before anything starts; once serving, a position published to
the broker is stored; SIGTERM stops the embedded PostgreSQL with the demo."""

import contextlib
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from lienwatch.embedded import free_port

pytestmark = [pytest.mark.db, pytest.mark.mqtt, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def _env(data_dir: Path) -> dict[str, str]:
    """The demo's environment: nothing configured, so it embeds both services under data_dir."""
    env = {k: v for k, v in os.environ.items() if k not in ("LIENWATCH_DATABASE_URL", "LIENWATCH_MQTT_URL")}
    return env | {"LIENWATCH_DATA_DIR": str(data_dir), "COLUMNS": "200"}


def _demo(data_dir: Path, *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "lienwatch", "demo", "--jt808-port", "0", *args]
    return subprocess.Popen(
        command, cwd=ROOT, env=_env(data_dir), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        yield int(holder.getsockname()[1])


@pytest.mark.parametrize("option", ["--port", "--broker-port"])
def test_a_taken_port_fails_at_once_naming_it(tmp_path: Path, taken_port: int, option: str) -> None:
    started = time.monotonic()
    other = "--broker-port" if option == "--port" else "--port"
    demo = _demo(tmp_path / "var", option, str(taken_port), other, str(free_port()))
    output, _ = demo.communicate(timeout=60)
    elapsed = time.monotonic() - started
    assert demo.returncode == 1, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("error: ") and f"port {taken_port}" in lines[0] and option in lines[0]
    assert not (tmp_path / "var" / "pgdata").exists()  # nothing was started
    assert elapsed < 20, f"took {elapsed:.1f} s"


def _lines(stream: Any) -> tuple["queue.Queue[str]", threading.Thread]:
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in stream:
            lines.put(line.rstrip("\n"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return lines, reader


def _wait_for(
    demo: subprocess.Popen[str], lines: "queue.Queue[str]", marker: str, seen: list[str], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (demo.poll() is None or not lines.empty()):
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        seen.append(line)
        if marker in line:
            return
    raise AssertionError(f"no {marker!r} within {timeout} s:\n" + "\n".join(seen))


def _get(url: str, token: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


def _stop_orphan(pidfile: Path) -> None:
    """After a failed run, stop the embedded PostgreSQL the demo left behind (fast shutdown)."""
    with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError, IndexError):
        os.kill(int(pidfile.read_text().split()[0]), signal.SIGINT)


def _publish(broker_port: int, device_id: str, payload: dict[str, Any]) -> None:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"demo-test-{device_id}", protocol=paho.MQTTv311)
    client.connect("127.0.0.1", broker_port)
    client.loop_start()
    try:
        client.publish(f"trackers/{device_id}/position", json.dumps(payload), qos=1).wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()


def test_serving_demo_stores_new_positions_and_sigterm_stops_its_postgres(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    port = free_port()
    demo = _demo(data_dir, "--vehicles", "15", "--days", "1", "--port", str(port))
    seen: list[str] = []
    assert demo.stdout is not None
    lines, reader = _lines(demo.stdout)
    try:
        _wait_for(demo, lines, "serving; Ctrl-C to stop", seen, timeout=240)
        text = "\n".join(seen)
        token = re.search(r"admin token: (\S+)", text).group(1)  # type: ignore[union-attr]
        broker_port = int(re.search(r"broker:\s+mqtt://127\.0\.0\.1:(\d+)", text).group(1))  # type: ignore[union-attr]
        pidfile = data_dir / "pgdata" / "postmaster.pid"
        postgres_pid = int(pidfile.read_text().split()[0])
        assert _alive(postgres_pid)

        base = f"http://127.0.0.1:{port}/api/v1"
        device = next(d for d in _get(f"{base}/devices", token)["items"] if d["vin"])
        now = datetime.now(UTC).replace(microsecond=0)
        _publish(broker_port, device["device_id"], {"ts": now.isoformat(), "lat": 31.2304, "lon": 121.4737})
        status_url = f"{base}/vehicles/{device['vin']}?purpose=demo+live+ingest+check"
        deadline = time.monotonic() + 30
        last_fix = None
        while time.monotonic() < deadline:
            fixes = {d["device_id"]: d["last_fix_at"] for d in _get(status_url, token)["devices"]}
            last_fix = fixes.get(device["device_id"])
            if last_fix is not None and datetime.fromisoformat(last_fix) >= now:
                break
            time.sleep(0.5)
        assert last_fix is not None and datetime.fromisoformat(last_fix) == now, last_fix

        demo.send_signal(signal.SIGTERM)
        demo.wait(60)
        deadline = time.monotonic() + 10
        while _alive(postgres_pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(postgres_pid), "the embedded PostgreSQL outlived the demo"
        assert not pidfile.exists()
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait(10)
        reader.join(10)
        demo.stdout.close()
        _stop_orphan(data_dir / "pgdata" / "postmaster.pid")
