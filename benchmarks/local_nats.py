"""A private NATS server with JetStream on a free port, for the scale-out tests and benchmark.

Its configuration is written here: a server name (JetStream and the MQTT listener need one), a
JetStream store directory of its own and, when asked, NATS's MQTT listener on a second free port.
Needs the `nats-server` binary (2.9 or later) on the machine.
"""

import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateNats:
    def __init__(self, workdir: Path, *, mqtt: bool = False) -> None:
        self.workdir = workdir
        self.port = _free_port()
        self.mqtt_port = _free_port() if mqtt else None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def config(self) -> str:
        store = self.workdir / "jetstream"
        store.mkdir(parents=True, exist_ok=True)
        lines = [
            f"listen: 127.0.0.1:{self.port}",
            f"server_name: lw-{uuid.uuid4().hex[:8]}",
            f'jetstream {{ store_dir: "{store}" }}',
        ]
        if self.mqtt_port is not None:
            lines.append(f"mqtt {{ listen: 127.0.0.1:{self.mqtt_port} }}")
        return "\n".join(lines) + "\n"

    def start(self) -> None:
        binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
        conf = self.workdir / "nats.conf"
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf.write_text(self.config())
        log = (self.workdir / "nats.log").open("ab")
        self.process = subprocess.Popen([binary, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError as exc:
                if self.process.poll() is not None:
                    raise RuntimeError(f"nats-server exited; see {self.workdir / 'nats.log'}") from exc
                time.sleep(0.05)
        raise RuntimeError("nats-server did not open its port")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=15)
            self.process = None
