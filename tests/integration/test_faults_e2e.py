"""Faults in the middle of a stream, end to end: the stored set equals the published set exactly
once, and the alerts that should have opened did open, none twice."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from benchmarks.local_mosquitto import PrivateMosquitto
from storage import migrate
from tests.support.fault_stream import ALARMED, DEVICES, ResilientPublisher, stream
from tests.support.ingest_harness import RunningIngest, count, publish, register, wait_for
from tests.support.throwaway_pg import ThrowawayPostgres

pytestmark = [pytest.mark.db, pytest.mark.mqtt]


def _ingest(db_url: str, mqtt_url: str, client_id: str) -> subprocess.Popen[bytes]:
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


def _subscribed(db: str, mqtt_url: str, messages: list[tuple[str, bytes]]) -> None:
    """Repeat the first message until stored: proves the ingestor's session is subscribed."""
    assert wait_for(
        lambda: publish(mqtt_url, messages[:1]) and count(db, "SELECT count(*) FROM positions") == 1,
        timeout=30,
        interval=0.5,
    )


def _assert_exactly_once_with_alerts(db: str, total: int) -> None:
    assert count(db, "SELECT count(*) FROM positions") == total
    assert count(db, "SELECT count(DISTINCT seq) FROM positions") == total
    assert count(db, "SELECT count(*) FROM quarantine") == 0
    with psycopg.connect(db) as conn:
        alerts = conn.execute(
            "SELECT loan_id, count(*) FROM alerts WHERE kind = 'power_cut' GROUP BY loan_id ORDER BY loan_id"
        ).fetchall()
        history = conn.execute("SELECT count(*) FROM alert_history WHERE event = 'open'").fetchone()
    assert alerts == [(f"L-{d}", 1) for d in sorted(ALARMED)]  # each opened, none twice
    assert history == (len(ALARMED),)


def test_sigkill_mid_stream_keeps_positions_and_alerts_exactly_once(ingest_db: str, private_broker) -> None:  # type: ignore[no-untyped-def]
    register(ingest_db, *DEVICES)
    total = 30_000
    messages = stream(total, datetime.now(UTC).replace(microsecond=0) - timedelta(days=1))
    ingest = _ingest(ingest_db, private_broker.url, "flt-kill")
    try:
        _subscribed(ingest_db, private_broker.url, messages)
        publisher = threading.Thread(target=publish, args=(private_broker.url, messages[1:]))
        publisher.start()
        assert wait_for(lambda: count(ingest_db, "SELECT count(*) FROM positions") > 8_000, timeout=60)
        ingest.send_signal(signal.SIGKILL)
        ingest.wait(10)
        assert count(ingest_db, "SELECT count(*) FROM positions") < total
        publisher.join(120)
        ingest = _ingest(ingest_db, private_broker.url, "flt-kill")
        assert wait_for(lambda: count(ingest_db, "SELECT count(*) FROM positions") == total, timeout=120)
        time.sleep(1.0)  # a redelivery still in flight would show up as an extra alert now
    finally:
        ingest.terminate()
        ingest.wait(30)
    _assert_exactly_once_with_alerts(ingest_db, total)


def test_broker_restart_mid_stream_loses_nothing(ingest_db: str, tmp_path: Path) -> None:
    broker = PrivateMosquitto(tmp_path / "broker")
    broker.start()
    register(ingest_db, *DEVICES)
    total = 20_000
    messages = stream(total, datetime.now(UTC).replace(microsecond=0) - timedelta(days=1))
    ingest = _ingest(ingest_db, broker.url, "flt-restart")
    publisher = None
    try:
        _subscribed(ingest_db, broker.url, messages)
        publisher = ResilientPublisher(broker.port)
        sender = threading.Thread(target=publisher.publish_all, args=(messages[1:],))
        sender.start()
        assert wait_for(lambda: count(ingest_db, "SELECT count(*) FROM positions") > 5_000, timeout=60)
        broker.stop()  # SIGTERM: Mosquitto writes its persistence file, sessions and queues included
        time.sleep(2)
        broker.start()  # same port, same persistence directory
        sender.join(180)
        assert len(publisher.acked) == total - 1
        assert wait_for(lambda: count(ingest_db, "SELECT count(*) FROM positions") == total, timeout=120)
        time.sleep(1.0)
    finally:
        if publisher is not None:
            publisher.close()
        ingest.terminate()
        ingest.wait(30)
        broker.stop()
    _assert_exactly_once_with_alerts(ingest_db, total)


@pytest.mark.slow
def test_database_down_60s_mid_stream_loses_nothing(tmp_path: Path, private_broker) -> None:  # type: ignore[no-untyped-def]
    pg = ThrowawayPostgres(tmp_path / "pg")
    pg.init()
    pg.start()
    try:
        with psycopg.connect(pg.url, autocommit=True) as conn:
            migrate.migrate(conn, timescale="off")
        register(pg.url, *DEVICES)
        total = 15_000
        messages = stream(total, datetime.now(UTC).replace(microsecond=0) - timedelta(days=1))
        with RunningIngest(pg.url, private_broker.url) as running:

            def trickle() -> None:  # about 200 messages a second for 75 s
                for i in range(0, total, 200):
                    publish(private_broker.url, messages[i : i + 200])
                    time.sleep(1.0)

            sender = threading.Thread(target=trickle)
            sender.start()
            assert wait_for(lambda: count(pg.url, "SELECT count(*) FROM positions") > 1_000, timeout=30)
            pg.stop()
            time.sleep(60)
            pg.start()
            sender.join(180)
            assert wait_for(lambda: count(pg.url, "SELECT count(*) FROM positions") == total, timeout=180)
            time.sleep(1.0)
            retries = running.process.metrics.db_retries._value.get()
        assert retries > 0, "the outage must have been felt for this test to mean anything"
        _assert_exactly_once_with_alerts(pg.url, total)
    finally:
        pg.stop()
        pg.cleanup()
