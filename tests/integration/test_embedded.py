"""The embedded PostgreSQL and MQTT broker the demo uses when nothing is configured."""

import threading
from pathlib import Path

import paho.mqtt.client as paho
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from lienwatch.embedded import start_broker, start_postgres
from storage import migrate


@pytest.mark.db
def test_embedded_postgres_starts_migrates_and_stops(tmp_path: Path) -> None:
    server = start_postgres(tmp_path / "data")
    try:
        with psycopg.connect(server.url, autocommit=True) as conn:
            applied = migrate.migrate(conn, timescale="auto")
            assert "0003_positions (native)" in applied  # no timescaledb in the wheel
            assert migrate.current_layout(conn) == "native"
            assert migrate.migrate(conn) == []
    finally:
        server.stop()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(server.url, connect_timeout=2)
    # Restarting on the same data directory keeps what was there.
    again = start_postgres(tmp_path / "data")
    try:
        with psycopg.connect(again.url) as conn:
            assert migrate.status(conn).pending == []
    finally:
        again.stop()


@pytest.mark.mqtt
def test_embedded_broker_carries_a_qos1_message_and_stops() -> None:
    broker = start_broker()
    port = int(broker.url.rsplit(":", 1)[1])
    got: list[bytes] = []
    arrived = threading.Event()
    subscribed = threading.Event()

    def on_message(_c: paho.Client, _u: object, message: paho.MQTTMessage) -> None:
        got.append(message.payload)
        arrived.set()

    sub = paho.Client(CallbackAPIVersion.VERSION2, client_id="embedded-sub")
    sub.on_message = on_message
    sub.on_subscribe = lambda *_: subscribed.set()
    sub.connect("127.0.0.1", port)
    sub.loop_start()
    sub.subscribe("trackers/+/position", qos=1)
    assert subscribed.wait(5)
    pub = paho.Client(CallbackAPIVersion.VERSION2, client_id="embedded-pub")
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    pub.publish("trackers/emb-1/position", b'{"lat": 31.2}', qos=1).wait_for_publish(5)
    assert arrived.wait(5)
    assert got == [b'{"lat": 31.2}']
    for client in (pub, sub):
        client.disconnect()
        client.loop_stop()
    broker.stop()
    probe = paho.Client(CallbackAPIVersion.VERSION2)
    with pytest.raises(OSError):
        probe.connect("127.0.0.1", port)
