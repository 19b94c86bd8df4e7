"""A PostgreSQL of one test's own (initdb in a temporary directory), for outage tests.

Stopping the machine's PostgreSQL would disturb every other test, so a test that takes the
database down starts its own from the system's PostgreSQL binaries. initdb refuses to run as
root, so as root the instance runs as an unprivileged system user made for it.
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

_USER = "lienwatch-test"


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThrowawayPostgres:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.pgdata = workdir / "pgdata"
        self.port = _free_port()
        self.bindir = _bindir()
        self.as_root = os.geteuid() == 0
        # Unix socket paths are limited to ~107 bytes: keep the socket out of deep pytest dirs.
        self.socket_dir = Path(tempfile.mkdtemp(prefix="lwpg-"))

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", _USER, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            try:
                pwd.getpwnam(_USER)
            except KeyError:
                subprocess.run(["useradd", "--system", "--no-create-home", _USER], check=True)
            shutil.chown(self.workdir, _USER)
            shutil.chown(self.socket_dir, _USER)
            os.chmod(self.workdir, 0o700)
            # The user must be able to reach the directory through its parents.
            for parent in self.workdir.parents:
                if parent == Path("/"):
                    break
                os.chmod(parent, os.stat(parent).st_mode | 0o011)
        self._run("initdb", "-D", str(self.pgdata), "-U", "postgres", "-A", "trust", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.socket_dir} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.pgdata), "-o", options, "-l", str(self.workdir / "pg.log"), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop")

    def cleanup(self) -> None:
        shutil.rmtree(self.socket_dir, ignore_errors=True)
