"""`python -m benchmarks api`: alert-list and track latency under concurrent clients, at volume.

Data: `positions` fixes (default 10M: 2,000 cars reporting once a minute for ~3.5 days) and
`alerts` alerts (default 100k) generated inside PostgreSQL with generate_series, so loading
takes a minute, not an hour. The API runs as `lienwatch api` in its own process; the clients are
connections of this one: first `clients` of them each sending its next request when the last
returns (saturation), then requests arriving at a steady rate with latency counted from when each
was due (a service level). On 2 cores the clients, the API and PostgreSQL share the CPU: the
figures include that contention.
"""

import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np

from benchmarks.ingest.run import scratch_database
from lienwatch.embedded import free_port
from storage import maintenance, users
from storage.database import connect
from storage.migrate import current_layout

_FILL_POSITIONS = """
    INSERT INTO positions (device_id, ts, lat, lon, accuracy_m, speed_kmh, heading, ignition, source, seq,
                           received_at)
    SELECT 'api-' || lpad(d::text, 5, '0'),
           %(start)s + make_interval(secs => 60 * n),
           31.0 + (d %% 100) * 0.003 + n * 1e-6, 121.0 + (d / 100) * 0.003,
           8, 30, n %% 360, true, 'gps', n, %(start)s + make_interval(secs => 60 * n)
    FROM generate_series(0, %(devices)s - 1) AS d, generate_series(0, %(per_device)s - 1) AS n
"""
_FILL_REGISTRY = """
    INSERT INTO vehicles (vin) SELECT 'VAPI' || lpad(d::text, 5, '0') FROM generate_series(0, %(devices)s - 1) d;
    INSERT INTO devices (device_id, kind, vin)
        SELECT 'api-' || lpad(d::text, 5, '0'), 'wired', 'VAPI' || lpad(d::text, 5, '0')
        FROM generate_series(0, %(devices)s - 1) d;
    INSERT INTO loans (loan_id, vin, days_past_due, outstanding_balance, assigned_collector)
        SELECT 'LAPI' || lpad(d::text, 5, '0'), 'VAPI' || lpad(d::text, 5, '0'), 15 + d %% 120,
               20000 + d * 7, 'collector-' || lpad((d %% 20)::text, 2, '0')
        FROM generate_series(0, %(devices)s - 1) d;
"""
_FILL_ALERTS = """
    INSERT INTO alerts (kind, severity, loan_id, vin, subject, status, priority, opened_at, last_seen_at, evidence)
    SELECT (ARRAY['offline','long_idle','risk_zone_enter','power_cut','gps_jump','tow'])[1 + a %% 6],
           (ARRAY['low','medium','high','critical'])[1 + a %% 4],
           'LAPI' || lpad((a %% %(devices)s)::text, 5, '0'), 'VAPI' || lpad((a %% %(devices)s)::text, 5, '0'),
           'subject-' || a,
           CASE WHEN a %% 5 = 0 THEN 'resolved' ELSE 'open' END,
           (a * 7919 %% 100000) / 10.0, %(start)s + make_interval(secs => a), %(start)s + make_interval(secs => a),
           jsonb_build_object('device_id', 'api-' || lpad((a %% %(devices)s)::text, 5, '0'), 'n', a)
    FROM generate_series(1, %(alerts)s) a
"""


def _fill(db: str, *, devices: int, per_device: int, alerts: int, start: datetime) -> float:
    params = {"devices": devices, "per_device": per_device, "alerts": alerts, "start": start}
    started = time.perf_counter()
    with connect(db, autocommit=True) as conn:
        conn.execute(_FILL_REGISTRY.replace("%(devices)s", str(devices)).replace("%%", "%").encode())
        if current_layout(conn) == "native":
            last = start + timedelta(minutes=per_device)
            maintenance.create_days(conn, {(start + timedelta(days=n)).date() for n in range((last - start).days + 2)})
        conn.execute(_FILL_POSITIONS, params)
        conn.execute(_FILL_ALERTS, params)
        conn.execute("ANALYZE")
    return time.perf_counter() - started


class _Http:
    """One keep-alive HTTP/1.1 connection speaking just enough of the protocol for GETs.

    The load generator shares two cores with the API and PostgreSQL: httpx took about half a core
    at 340 requests/s, CPU the server then did not have, so the figures partly measured the client."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes) -> None:
        self.reader, self.writer, self.head = reader, writer, head

    @classmethod
    async def open(cls, host: str, port: int, token: str) -> "_Http":
        reader, writer = await asyncio.open_connection(host, port)
        head = f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
        return cls(reader, writer, head)

    async def get(self, path: str) -> tuple[int, bytes]:
        """The status and body of GET path."""
        self.writer.write(b"GET " + path.encode() + b" HTTP/1.1\r\n" + self.head)
        header = await self.reader.readuntil(b"\r\n\r\n")
        lines = header.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines[1:] if line)}
        if b"content-length" in fields:
            return status, await self.reader.readexactly(int(fields[b"content-length"]))
        body = bytearray()  # chunked: size line, data, CRLF; a zero size ends it
        while size := int((await self.reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16):
            body += (await self.reader.readexactly(size + 2))[:-2]
        await self.reader.readuntil(b"\r\n")
        return status, bytes(body)

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


def _figures(latencies: list[float], errors: int, seconds: float) -> dict[str, float]:
    ms = np.array(latencies) * 1000
    return {
        "requests": float(len(ms)),
        "errors": float(errors),
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "rps": len(ms) / seconds,
    }


async def _closed_loop(port: int, token: str, paths: list[str], *, clients: int, seconds: float) -> dict[str, float]:
    """`clients` connections, each sending its next request as soon as the last one returns."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client(k: int) -> None:
        nonlocal errors
        http = await _Http.open("127.0.0.1", port, token)
        i = k
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            status, _ = await http.get(paths[i % len(paths)])
            latencies.append(time.perf_counter() - began)
            errors += status != 200
            i += clients
        await http.close()

    await asyncio.gather(*(client(k) for k in range(clients)))
    return _figures(latencies, errors, seconds)


async def _open_loop(port: int, token: str, paths: list[str], *, rate: float, seconds: float) -> dict[str, float]:
    """Requests arriving at a steady `rate` per second, however slowly the server answers; each
    latency counts from when the request was due, so queueing behind a slow answer is measured."""
    latencies: list[float] = []
    errors = 0
    due = [n / rate for n in range(int(rate * seconds))]
    queue: asyncio.Queue[tuple[int, float]] = asyncio.Queue()
    for n, at in enumerate(due):
        queue.put_nowait((n, at))
    began = time.perf_counter()

    async def connection() -> None:
        nonlocal errors
        http = await _Http.open("127.0.0.1", port, token)
        while not queue.empty():
            n, at = queue.get_nowait()
            wait = began + at - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            status, _ = await http.get(paths[n % len(paths)])
            latencies.append(time.perf_counter() - (began + at))
            errors += status != 200
        await http.close()

    await asyncio.gather(*(connection() for _ in range(32)))
    return _figures(latencies, errors, seconds)


def run(
    *,
    admin_url: str,
    mqtt_url: str,
    devices: int = 2000,
    per_device: int = 5000,
    alerts: int = 100_000,
    clients: int = 8,
    seconds: float = 20.0,
    workers: int = 2,
    list_rate: float = 200.0,
    track_rate: float = 50.0,
) -> dict[str, Any]:
    """Fill, serve, load; returns the figures."""
    start = (datetime.now(UTC) - timedelta(minutes=per_device + 60)).replace(second=0, microsecond=0)
    result: dict[str, Any] = {"positions": devices * per_device, "alerts": alerts, "api_workers": workers}
    with scratch_database(admin_url) as db:
        result["load_s"] = round(_fill(db, devices=devices, per_device=per_device, alerts=alerts, start=start), 1)
        with connect(db, autocommit=True) as conn:
            token = users.create_user(conn, "bench-admin", "admin", ttl=timedelta(days=1))
        port = free_port()
        # The load is one principal reading tracks as fast as it can: lift its location-read limit.
        env = {**os.environ, "LIENWATCH_DATABASE_URL": db, "LIENWATCH_MQTT_URL": mqtt_url}
        env["LIENWATCH_LOCATION_READS_PER_MINUTE"] = str(10**9)
        server = subprocess.Popen(
            [sys.executable, "-m", "lienwatch", "api", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_ready(f"http://127.0.0.1:{port}/healthz")
            day = start + timedelta(days=1)
            span = f"start={_z(day)}&end={_z(day + timedelta(days=1))}&purpose=benchmark"
            lists = [
                "/api/v1/alerts?limit=50",
                "/api/v1/alerts?limit=50&severity=critical",
                "/api/v1/alerts?limit=50&kind=offline",
            ]
            tracks = [f"/api/v1/vehicles/VAPI{n:05d}/track?{span}" for n in range(0, devices, max(1, devices // 50))]
            for name, paths, rate in (("alert_list", lists, list_rate), ("track_one_day", tracks, track_rate)):
                asyncio.run(_closed_loop(port, token, paths, clients=clients, seconds=2))  # warm the pools
                figures = {
                    f"{clients}_clients": asyncio.run(
                        _closed_loop(port, token, paths, clients=clients, seconds=seconds)
                    ),
                    f"{rate:g}_per_s": asyncio.run(_open_loop(port, token, paths, rate=rate, seconds=seconds)),
                }
                for load, values in figures.items():
                    for key, value in values.items():
                        result[f"{name}_{load}_{key}"] = round(value, 1)
        finally:
            server.terminate()
            server.wait(30)
    return result


def _z(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def _wait_ready(url: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the API did not come up at {url}")
