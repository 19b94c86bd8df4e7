"""The workbench in headless Chromium: how soon the queue of 1,000 alerts is interactive, and how
long a 7-day replay of a wired unit reporting every 30 s (about 20k fixes) takes to fetch and draw.

The queue figure is the page's own mark (`performance.now()` once the table is filled and laid
out, i.e. from navigation start: HTML, scripts, sign-in check, the 500-alert pages and the
render), with the frame after it (painted) in the timeline, then the time a search keystroke
takes to re-filter the table. The replay figure runs from pressing
"show" to the frame after the track, its stops and the slider are drawn; the draw alone is
reported beside it. The API is `lienwatch api` in a process of its own (one server process),
as deployed: in the benchmark's process it would share the interpreter with Playwright's client.
"""

import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import psycopg

from alerts.actions import AlertDraft
from benchmarks.browser import chromium, free_port
from benchmarks.ingest.run import scratch_database
from domain.ids import DeviceId, LoanId, Vin
from domain.position import Position
from domain.vocabulary import AlertKind, Severity
from storage import users
from storage.alerts import upsert
from storage.migrate import current_layout
from storage.positions import PositionWriter

KINDS = list(AlertKind)
SEVERITIES = list(Severity)
REPLAY_VIN = "BENCH-WB-REPLAY"
REPLAY_DEVICE = DeviceId("bench-wb-wired")


def _seed_queue(conn: psycopg.Connection[Any], alerts: int, collector: str, now: datetime) -> None:
    rng = np.random.default_rng(7)
    vins = [f"BENCH-WB-{i:05d}" for i in range(alerts)]
    with conn.cursor() as cur:
        plates = [(v, f"沪A{i:05d}") for i, v in enumerate(vins)]
        cur.executemany("INSERT INTO vehicles (vin, plate) VALUES (%s, %s)", plates)
        cur.executemany(
            """
            INSERT INTO loans (loan_id, vin, borrower_name, status, days_past_due, assigned_collector,
                               home_lat, home_lon, bound_region)
            VALUES (%s, %s, %s, 'active', %s, %s, %s, %s, %s)
            """,
            [
                (f"L-WB-{i:05d}", v, f"Borrower {i}", int(rng.integers(0, 200)), collector,
                 31.0 + rng.random(), 121.0 + rng.random(), ("CN-SH", "CN-BJ", "CN-GD")[i % 3])
                for i, v in enumerate(vins)
            ],
        )
    for i, vin in enumerate(vins):
        draft = AlertDraft(
            kind=KINDS[i % len(KINDS)],
            severity=SEVERITIES[i % len(SEVERITIES)],
            loan_id=LoanId(f"L-WB-{i:05d}"),
            vin=Vin(vin),
            subject="",
            at=now - timedelta(minutes=int(rng.integers(5, 10_000))),
            priority=float(rng.random() * 10),
            hold_reason=None,
            evidence={"fix": {"lat": 31.2, "lon": 121.5}},
        )
        with conn.transaction():
            upsert(conn, draft)


def _seed_replay(conn: psycopg.Connection[Any], collector: str, end: datetime, days: int) -> int:
    conn.execute("INSERT INTO vehicles (vin, plate) VALUES (%s, '沪B00001')", (REPLAY_VIN,))
    conn.execute(
        """
        INSERT INTO loans (loan_id, vin, borrower_name, status, days_past_due, assigned_collector, home_lat, home_lon)
        VALUES ('L-WB-REPLAY', %s, 'Replay Borrower', 'active', 60, %s, 31.23, 121.47)
        """,
        (REPLAY_VIN, collector),
    )
    conn.execute("INSERT INTO devices (device_id, kind, vin) VALUES (%s, 'wired', %s)", (REPLAY_DEVICE, REPLAY_VIN))
    steps = days * 24 * 120  # one fix every 30 s
    start = end - timedelta(days=days)
    rng = np.random.default_rng(11)
    # A car that drives in bursts and parks in between: a random walk that stands still 70 % of the time.
    moving = rng.random(steps) < 0.3
    lat = 31.23 + np.cumsum(np.where(moving, rng.normal(0, 0.0015, steps), 0.0))
    lon = 121.47 + np.cumsum(np.where(moving, rng.normal(0, 0.0015, steps), 0.0))
    positions = [
        Position(REPLAY_DEVICE, start + timedelta(seconds=30 * i), float(lat[i]), float(lon[i]),
                 received_at=start + timedelta(seconds=30 * i), speed_kmh=40.0 if moving[i] else 0.0)
        for i in range(steps)
    ]
    layout = current_layout(conn)
    assert layout is not None
    writer = PositionWriter(conn, layout)
    writer.ensure_days(positions)
    with conn.transaction():
        writer.insert(positions)
    return steps


_LONG_TASKS = """window.lwLongTasks = [];
new PerformanceObserver(list => list.getEntries().forEach(e => window.lwLongTasks.push(e.duration)))
    .observe({ type: 'longtask', buffered: true });"""

# Milestones of a queue load from navigation start: scripts parsed, the first API request sent,
# each alert page received.
_BREAKDOWN = """() => {
    const out = { dom_content_loaded: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd };
    const api = performance.getEntriesByType('resource').filter(e => e.name.includes('/api/v1/'));
    out.first_api_request = Math.min(...api.map(e => e.startTime));
    api.filter(e => e.name.includes('/api/v1/alerts?')).forEach((e, i) => {
        out[`alerts_page_${i + 1}_received`] = e.responseEnd;
        out[`alerts_page_${i + 1}_server`] = e.responseStart - e.requestStart;
    });
    performance.getEntriesByType('mark').forEach(m => { out[m.name] = m.startTime; });
    out.ready = Number(document.body.dataset.queueReady);
    out.painted = Number(document.body.dataset.queuePainted);
    out.long_tasks = window.lwLongTasks.reduce((n, t) => n + t, 0);
    out.last_render = Number(document.querySelector('#alerts').dataset.renderMs);
    for (const k in out) out[k] = Math.round(out[k]);
    return out;
}"""


@contextlib.contextmanager
def _lienwatch_api(db: str, mqtt_url: str) -> Iterator[str]:
    """`lienwatch api` on a free port, stopped afterwards; yields its base URL."""
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
        for _ in range(300):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError(f"lienwatch api did not come up at {base}")
        yield base
    finally:
        server.terminate()
        server.wait(30)


def run(*, admin_url: str, mqtt_url: str, alerts: int = 1000, days: int = 7, repeats: int = 3) -> dict[str, Any]:
    """The figures, from a scratch database the benchmark fills and drops."""
    now = datetime.now(UTC).replace(microsecond=0)
    with scratch_database(admin_url, timescale="off") as db:
        with psycopg.connect(db, autocommit=True) as conn:
            collector = "bench-collector"
            token = users.create_user(conn, collector, "collector", ttl=timedelta(days=1))
            started = time.monotonic()
            _seed_queue(conn, alerts, collector, now)
            fixes = _seed_replay(conn, collector, now, days)
            seed_s = time.monotonic() - started
        with _lienwatch_api(db, mqtt_url) as base, chromium() as browser:
            queue_ms, search_ms, rows = [], [], 0
            breakdown: list[dict[str, float]] = []
            for _ in range(repeats):
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                context.add_init_script(f"sessionStorage.setItem('lw.token', {token!r})")
                context.add_init_script(_LONG_TASKS)
                page = context.new_page()
                page.goto(base + "/workbench/#/queue")
                page.wait_for_selector("body[data-queue-painted]", timeout=30_000)
                queue_ms.append(float(page.get_attribute("body", "data-queue-ready") or "nan"))
                rows = page.locator("#alerts .row").count()
                breakdown.append(page.evaluate(_BREAKDOWN))
                search_ms.append(
                    page.evaluate(
                        """() => new Promise(resolve => {
                            const input = document.querySelector('input[name=search]');
                            const t0 = performance.now();
                            input.value = 'L-WB-0004';
                            input.dispatchEvent(new Event('input', { bubbles: true }));
                            requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - t0)));
                        })"""
                    )
                )
                context.close()
            replay_ms, draw_ms, points = [], [], 0
            for _ in range(repeats):
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                context.add_init_script(f"sessionStorage.setItem('lw.token', {token!r})")
                page = context.new_page()
                page.goto(f"{base}/workbench/#/vehicle/{REPLAY_VIN}")
                page.wait_for_selector("#replay button[type=submit]", timeout=30_000)
                local = "%Y-%m-%dT%H:%M"
                start = (now - timedelta(days=days)).astimezone().strftime(local)
                end = (now + timedelta(minutes=1)).astimezone().strftime(local)
                page.fill("#replay input[name=from]", start)
                page.fill("#replay input[name=to]", end)
                page.click("#replay button[type=submit]")
                page.wait_for_selector("body[data-replay-ms]", timeout=60_000)
                replay_ms.append(float(page.get_attribute("body", "data-replay-ms") or "nan"))
                draw_ms.append(float(page.get_attribute("body", "data-replay-draw-ms") or "nan"))
                points = int(page.get_attribute("body", "data-replay-points") or "0")
                context.close()
    return {
        "alerts_seeded": alerts,
        "queue_rows_shown": rows,
        "queue_interactive_ms_median": statistics.median(queue_ms),
        "queue_interactive_ms_max": max(queue_ms),
        "queue_timeline_ms": {k: statistics.median(b[k] for b in breakdown) for k in breakdown[0]},
        "queue_search_ms_median": round(statistics.median(search_ms), 1),
        "replay_fixes_seeded": fixes,
        "replay_points_drawn": points,
        "replay_fetch_and_draw_ms_median": statistics.median(replay_ms),
        "replay_fetch_and_draw_ms_max": max(replay_ms),
        "replay_draw_ms_median": statistics.median(draw_ms),
        "seed_s": round(seed_s, 1),
    }
