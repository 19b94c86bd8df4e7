"""A private Mosquitto on a free port, started with the project's own broker settings.

For the loss tests and the ingest benchmark: a broker left at Mosquitto's defaults (20 in
flight, 1,000 queued) would throttle ack-after-commit and drop a stopped ingestor's backlog,
so these run against deploy/mosquitto/mosquitto.conf, copied with only the listener,
persistence path and authentication replaced. Needs the `mosquitto` binary on the machine and a
checkout of the repository (the configuration is read from it; none of this ships in the wheel).
"""

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

CONF = Path(__file__).resolve().parents[1] / "deploy" / "mosquitto" / "mosquitto.conf"
_REPLACED = ("listener", "persistence_location", "password_file", "acl_file", "allow_anonymous", "log_dest")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateMosquitto:
    """With a password file (and ACL), anonymous clients are refused, as deployed."""

    def __init__(self, workdir: Path, *, password_file: Path | None = None, acl_file: Path | None = None) -> None:
        self.workdir = workdir
        self.port = _free_port()
        self.password_file = password_file
        self.acl_file = acl_file
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def config(self) -> str:
        kept = [
            line
            for line in CONF.read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#") and line.split()[0] not in _REPLACED
        ]
        data = self.workdir / "data"
        data.mkdir(parents=True, exist_ok=True)
        kept += [
            f"persistence_location {data}/",
            f"listener {self.port} 127.0.0.1",
            f"allow_anonymous {'false' if self.password_file else 'true'}",
            f"log_dest file {self.workdir / 'mosquitto.log'}",
        ]
        if self.password_file:
            kept.append(f"password_file {self.password_file}")
        if self.acl_file:
            kept.append(f"acl_file {self.acl_file}")
        if os.geteuid() == 0:
            # Run as root, Mosquitto would switch to its own user, which cannot write here.
            kept.append("user root")
        return "\n".join(kept) + "\n"

    def start(self) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(self.config())
        self.process = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError as exc:
                if self.process.poll() is not None:
                    err = self.process.stderr.read().decode() if self.process.stderr else ""
                    raise RuntimeError(f"mosquitto exited: {err}") from exc
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not open its port")

    def reload(self) -> None:
        """Have the broker reread its password file and ACL (SIGHUP), as an operator would."""
        if self.process is not None:
            self.process.send_signal(signal.SIGHUP)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            if self.process.stderr:
                self.process.stderr.close()
            self.process = None
