"""Helpers for the scale-out tests and benchmark: `lienwatch router` and `lienwatch worker`
processes on a private NATS, and the fleet's outcome (alerts, positions) read back."""

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import nats
import psycopg

from ingest.detectors import DetectorSink
from storage.database import connect

# Evidence measured at the instant of the sweep that found the condition, and sweeps run when a
# worker's partition clock has moved on a sweep period, i.e. at batch boundaries (in one process
# as in many): how long a car had stood still when the sweep looked, and how many relocation runs
# refreshed the alert. Every other field, opened_at included, is decided by event time.
SWEEP_TIMED_EVIDENCE = {"long_idle": {"stopped_h", "occurrences"}, "relocation": {"occurrences"}}


def _env(**values: object) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENWATCH_")}
    env.update({f"LIENWATCH_{k.upper()}": str(v) for k, v in values.items()})
    return env


@dataclass
class Cluster:
    """A router and N workers of one fleet run, as separate processes."""

    database_url: str
    mqtt_url: str
    nats_url: str
    logdir: Path
    partitions: int = 16
    lease_s: float = 3.0
    sweep: dict[str, object] = field(
        default_factory=lambda: {"sweep_clock": "watermark", "sweep_every_s": 900, "allowed_lateness_s": 900}
    )
    detectors: bool = True
    router: subprocess.Popen[bytes] | None = None
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def _spawn(self, name: str, args: list[str], **extra: object) -> subprocess.Popen[bytes]:
        env = _env(
            database_url=self.database_url,
            mqtt_url=self.mqtt_url,
            nats_url=self.nats_url,
            partitions=self.partitions,
            lease_s=self.lease_s,
            metrics_port=0,
            detectors=str(self.detectors).lower(),
            **self.sweep,
            **extra,
        )
        self.logdir.mkdir(parents=True, exist_ok=True)
        log = (self.logdir / f"{name}.log").open("ab")
        process = subprocess.Popen([sys.executable, "-m", "lienwatch", *args], env=env, stdout=log, stderr=log)
        log.close()
        return process

    def start_router(self) -> None:
        self.router = self._spawn("router", ["router", "--client-id", f"router-{self.logdir.name}"])

    def start_worker(self, worker_id: str) -> None:
        self.workers[worker_id] = self._spawn(worker_id, ["worker", "--worker-id", worker_id])

    def kill_worker(self, worker_id: str) -> None:
        process = self.workers.pop(worker_id)
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def stop(self) -> None:
        for process in [*self.workers.values(), *([self.router] if self.router else [])]:
            if process.poll() is None:
                process.terminate()
        for process in [*self.workers.values(), *([self.router] if self.router else [])]:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        self.workers.clear()
        self.router = None

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until the router's MQTT session is subscribed and every partition has been claimed.

        Trackers publishing before the router's first session exists would reach no subscriber
        (MQTT keeps messages only for sessions that exist): a deployment starts the router first."""
        log = self.logdir / "router.log"

        def ready() -> bool:
            subscribed = log.exists() and "connected to MQTT broker" in log.read_text(errors="replace")
            return subscribed and len(committed(self.database_url)) == self.partitions

        if not wait_until(ready, timeout, 0.2):
            raise RuntimeError(f"router or workers not ready; logs in {self.logdir}")

    def alive(self) -> bool:
        return all(p.poll() is None for p in [*self.workers.values(), *([self.router] if self.router else [])])


def stream_last_seq(nats_url: str, stream: str = "LIENWATCH_POS") -> int:
    """The stream's last sequence (0 before it exists)."""

    async def read() -> int:
        nc = await nats.connect(nats_url)
        try:
            info = await nc.jetstream().stream_info(stream)
            return int(info.state.last_seq)
        except nats.js.errors.NotFoundError:
            return 0
        finally:
            await nc.close()

    return asyncio.run(read())


def committed(database_url: str) -> dict[int, int]:
    """Each partition's last committed stream sequence."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT partition, last_seq FROM stream_partitions").fetchall()
    return {int(r[0]): int(r[1]) for r in rows}


def stored_positions(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM positions").fetchone()
    return int(row[0]) if row else 0


def drained(database_url: str, nats_url: str, partitions: int, positions: int) -> bool:
    """Every fix published is stored and every message routed is committed: the stream ends
    with one punctuation per partition (the router's last batch), so each partition's last
    commit lies among them."""
    if stored_positions(database_url) < positions:
        return False
    last = stream_last_seq(nats_url)
    done = committed(database_url)
    return last > 0 and len(done) == partitions and min(done.values()) > last - partitions


def fixes_in(messages: Iterable[tuple[int, str, bytes]]) -> int:
    """How many fixes these messages carry (a payload is one fix or an array of them)."""
    total = 0
    for _order, _topic, payload in messages:
        body = json.loads(payload)
        total += len(body) if isinstance(body, list) else 1
    return total


def final_sweep(database_url: str, end: datetime) -> None:
    """The end of the simulated run, swept once (as lienwatch.fleetrun does after a drain)."""
    sink = DetectorSink(database_url=database_url)
    with connect(database_url, autocommit=True) as conn:
        sink.sweep(conn, end)
        sink.relocation_sweep(conn, end)


@dataclass(frozen=True)
class Outcome:
    alerts: frozenset[tuple[str, str, str, str, str]]  # (loan, kind, subject, opened_at, evidence JSON)
    positions: int
    positions_digest: str
    quarantined: int
    opened_events: int  # alert_history "open" rows: an alert opened twice would show here
    statuses: frozenset[tuple[str, str, str, str]]  # (loan, kind, subject, status): cleared ones too

    def exact(self) -> frozenset[tuple[str, str, str, str, str]]:
        """Every alert with its time and evidence, less the evidence a sweep measures at its instant."""
        out = set()
        for loan, kind, subject, opened, evidence in self.alerts:
            timed = SWEEP_TIMED_EVIDENCE.get(kind)
            if timed:
                evidence = json.dumps({k: v for k, v in json.loads(evidence).items() if k not in timed}, sort_keys=True)
            out.add((loan, kind, subject, opened, evidence))
        return frozenset(out)

    def by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for a in self.alerts:
            counts[a[1]] = counts.get(a[1], 0) + 1
        return dict(sorted(counts.items()))


def outcome(database_url: str) -> Outcome:
    with psycopg.connect(database_url) as conn:
        rows: list[Any] = conn.execute(
            "SELECT loan_id, kind, subject, opened_at, evidence, status FROM alerts"
        ).fetchall()
        digest_row = conn.execute(
            """
            SELECT count(*), md5(coalesce(string_agg(
                device_id || '|' || ts::text || '|' || lat::text || '|' || lon::text, ',' ORDER BY device_id, ts), ''))
            FROM positions
            """
        ).fetchone()
        quarantined = conn.execute("SELECT count(*) FROM quarantine").fetchone()
        opened = conn.execute("SELECT count(*) FROM alert_history WHERE event = 'open'").fetchone()
    assert digest_row is not None and quarantined is not None and opened is not None
    alerts = frozenset((r[0], r[1], r[2], r[3].isoformat(), json.dumps(r[4], sort_keys=True)) for r in rows)
    statuses = frozenset((r[0], r[1], r[2], r[5]) for r in rows)
    return Outcome(alerts, int(digest_row[0]), str(digest_row[1]), int(quarantined[0]), int(opened[0]), statuses)


def wait_until(predicate: Any, timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def fingerprint(values: object) -> str:
    return hashlib.sha256(repr(values).encode()).hexdigest()[:12]
