"""Crashes and outages in the middle of a stream: every valid message stored exactly once."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import psycopg
import pytest

from storage import migrate
from tests.integration.ingest_harness import RunningIngest, count, publish, register, wait_for
from tests.throwaway_pg import ThrowawayPostgres

pytestmark = [pytest.mark.db, pytest.mark.mqtt]

DEVICES = [f"flt-{n:03d}" for n in range(100)]


def stream(total: int, start: datetime) -> list[tuple[str, bytes]]:
    """`total` valid fixes spread over DEVICES, each (device, ts) unique."""
    messages = []
    for n in range(total):
        device = DEVICES[n % len(DEVICES)]
        ts = start + timedelta(seconds=n // len(DEVICES))
        body = {"ts": ts.isoformat().replace("+00:00", "Z"), "lat": 31.2 + n % 97 * 1e-4, "lon": 121.4, "seq": n}
        messages.append((f"trackers/{device}/position", orjson.dumps(body)))
    return messages


def _ingest_subprocess(db_url: str, mqtt_url: str, client_id: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "LIENWATCH_DATABASE_URL": db_url,
        "LIENWATCH_MQTT_URL": mqtt_url,
        "LIENWATCH_MQTT_CLIENT_ID": client_id,
        "LIENWATCH_METRICS_PORT": "0",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "lienwatch", "ingest"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def test_sigkill_mid_stream_loses_nothing_and_stores_once(ingest_db: str, private_broker) -> None:  # type: ignore[no-untyped-def]
    register(ingest_db, *DEVICES)
    total = 30_000
    messages = stream(total, datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))
    ingest = _ingest_subprocess(ingest_db, private_broker.url, "lw-kill-test")
    try:
        # The first message, repeated until stored, proves the persistent session is subscribed.
        assert wait_for(
            lambda: (
                publish(private_broker.url, messages[:1]) and count(ingest_db, "SELECT count(*) FROM positions") == 1
            ),
            timeout=30,
            interval=0.5,
        )
        publisher = threading.Thread(target=publish, args=(private_broker.url, messages[1:]))
        publisher.start()
        assert wait_for(lambda: count(ingest_db, "SELECT count(*) FROM positions") > 5_000, timeout=60)
        ingest.send_signal(signal.SIGKILL)
        ingest.wait(10)
        killed_at = count(ingest_db, "SELECT count(*) FROM positions")
        publisher.join(120)
        # Redelivery after the crash may repeat what was committed but not yet acked.
        ingest = _ingest_subprocess(ingest_db, private_broker.url, "lw-kill-test")
        assert wait_for(lambda: count(ingest_db, "SELECT count(*) FROM positions") == total, timeout=120)
    finally:
        ingest.terminate()
        ingest.wait(30)
    assert killed_at < total, "the kill must land mid-stream for this test to mean anything"
    assert count(ingest_db, "SELECT count(DISTINCT (device_id, ts)) FROM positions") == total
    assert count(ingest_db, "SELECT count(DISTINCT seq) FROM positions") == total
    assert count(ingest_db, "SELECT count(*) FROM quarantine") == 0


@pytest.mark.slow
def test_database_down_30s_mid_stream_loses_nothing(tmp_path: Path, private_broker) -> None:  # type: ignore[no-untyped-def]
    pg = ThrowawayPostgres(tmp_path / "pg")
    pg.init()
    pg.start()
    try:
        with psycopg.connect(pg.url, autocommit=True) as conn:
            migrate.migrate(conn, timescale="off")
        register(pg.url, *DEVICES)
        total = 12_000
        messages = stream(total, datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2))
        with RunningIngest(pg.url, private_broker.url) as running:

            def trickle() -> None:  # about 300 messages a second for 40 s
                for i in range(0, total, 300):
                    publish(private_broker.url, messages[i : i + 300])
                    time.sleep(1.0)

            publisher = threading.Thread(target=trickle)
            publisher.start()
            assert wait_for(lambda: count(pg.url, "SELECT count(*) FROM positions") > 1_000, timeout=30)
            pg.stop()
            time.sleep(30)
            pg.start()
            publisher.join(120)
            assert wait_for(lambda: count(pg.url, "SELECT count(*) FROM positions") == total, timeout=120)
            retries = running.process.metrics.db_retries._value.get()
        assert retries > 0, "the outage must have been felt for this test to mean anything"
        assert count(pg.url, "SELECT count(DISTINCT seq) FROM positions") == total
        assert count(pg.url, "SELECT count(*) FROM quarantine") == 0
    finally:
        pg.stop()
        pg.cleanup()
