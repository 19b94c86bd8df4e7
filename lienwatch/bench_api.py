"""`lienwatch bench api`: alert-list and track latency under concurrent clients, at volume.

Data: `positions` fixes (default 10M: 2,000 cars reporting once a minute for ~3.5 days) and
`alerts` alerts (default 100k) generated inside PostgreSQL with generate_series, so loading
takes a minute, not an hour. The API runs as `lienwatch api` in its own process; the clients are
asyncio tasks of this one, each sending its next request when the last returns. On 2 cores the
clients, the API and PostgreSQL share the CPU: the figures include that contention.
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

from ingest.bench.run import scratch_database
from lienwatch.embedded import free_port
from storage import users
from storage.database import connect

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
           CASE WHEN a %% 3 = 0 THEN 'resolved' ELSE 'open' END,
           (a * 7919 %% 100000) / 10.0, %(start)s + make_interval(secs => a), %(start)s + make_interval(secs => a),
           jsonb_build_object('device_id', 'api-' || lpad((a %% %(devices)s)::text, 5, '0'), 'n', a)
    FROM generate_series(1, %(alerts)s) a
"""


def _fill(db: str, *, devices: int, per_device: int, alerts: int, start: datetime) -> float:
    params = {"devices": devices, "per_device": per_device, "alerts": alerts, "start": start}
    started = time.perf_counter()
    with connect(db, autocommit=True) as conn:
        conn.execute(_FILL_REGISTRY.replace("%(devices)s", str(devices)).replace("%%", "%").encode())
        conn.execute(_FILL_POSITIONS, params)
        conn.execute(_FILL_ALERTS, params)
        conn.execute("ANALYZE")
    return time.perf_counter() - started


async def _load(base: str, token: str, paths: list[str], *, clients: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {token}"}

    async def client(k: int) -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
            i = k
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                response = await http.get(paths[i % len(paths)])
                latencies.append(time.perf_counter() - began)
                errors += response.status_code != 200
                i += clients

    await asyncio.gather(*(client(k) for k in range(clients)))
    ms = np.array(latencies) * 1000
    return {
        "requests": float(len(ms)),
        "errors": float(errors),
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "rps": len(ms) / seconds,
    }


def run(
    *,
    admin_url: str,
    mqtt_url: str,
    devices: int = 2000,
    per_device: int = 5000,
    alerts: int = 100_000,
    clients: int = 8,
    seconds: float = 20.0,
) -> dict[str, Any]:
    """Fill, serve, load; returns the figures."""
    start = (datetime.now(UTC) - timedelta(minutes=per_device + 60)).replace(second=0, microsecond=0)
    result: dict[str, Any] = {"positions": devices * per_device, "alerts": alerts, "clients": clients}
    with scratch_database(admin_url) as db:
        result["load_s"] = round(_fill(db, devices=devices, per_device=per_device, alerts=alerts, start=start), 1)
        with connect(db, autocommit=True) as conn:
            token = users.create_user(conn, "bench-admin", "admin")
        port = free_port()
        env = {**os.environ, "LIENWATCH_DATABASE_URL": db, "LIENWATCH_MQTT_URL": mqtt_url}
        server = subprocess.Popen(
            [sys.executable, "-m", "lienwatch", "api", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            day_start = start + timedelta(days=1)
            lists = [
                "/api/v1/alerts?limit=50",
                "/api/v1/alerts?limit=50&severity=critical",
                "/api/v1/alerts?limit=50&kind=offline",
            ]
            tracks = [
                f"/api/v1/vehicles/VAPI{n:05d}/track?start={day_start.isoformat().replace('+00:00', 'Z')}"
                f"&end={(day_start + timedelta(days=1)).isoformat().replace('+00:00', 'Z')}&purpose=benchmark"
                for n in range(0, devices, max(1, devices // 50))
            ]
            for name, paths in (("alert_list", lists), ("track_one_day", tracks)):
                figures = asyncio.run(_load(base, token, paths, clients=clients, seconds=seconds))
                for key, value in figures.items():
                    result[f"{name}_{key}"] = round(value, 1)
        finally:
            server.terminate()
            server.wait(30)
    return result
