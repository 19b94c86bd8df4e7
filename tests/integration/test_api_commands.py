"""Device commands go out on trackers/{device_id}/command at QoS 1, logged and audited."""

import json
import threading
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
import pytest
from fastapi.testclient import TestClient

from ingest.link import BrokerAddress
from lienwatch.api_wiring import app_for
from tests.support.api_harness import add_device, add_loan, add_user, auth, own_database

pytestmark = [pytest.mark.db, pytest.mark.mqtt]


@pytest.fixture(scope="module")
def db(pg_available: None) -> Iterator[str]:
    with own_database() as url:
        yield url


class Listener:
    """A paho subscriber on one topic that keeps what arrives."""

    def __init__(self, url: str, topic: str) -> None:
        address = BrokerAddress.parse(url)
        self.messages: list[tuple[str, int, bytes]] = []
        self.arrived = threading.Event()
        subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.on_message = self._message
        self.client.connect(address.host, address.port)
        self.client.loop_start()
        assert subscribed.wait(5), "subscription not acknowledged"

    def _message(self, client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.messages.append((message.topic, message.qos, message.payload))
        self.arrived.set()

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def device(db: str) -> str:
    _, vin = add_loan(db, dpd=75)
    return add_device(db, vin)


@pytest.fixture
def listener(mqtt_url: str, device: str) -> Iterator[Listener]:
    subscriber = Listener(mqtt_url, f"trackers/{device}/command")
    yield subscriber
    subscriber.close()


def _rows(db: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def test_chase_mode_reaches_the_tracker_and_is_logged_and_audited(
    db: str, mqtt_url: str, device: str, listener: Listener
) -> None:
    name, token = add_user(db, "supervisor")
    with TestClient(app_for(database_url=db, mqtt_url=mqtt_url, webhook_interval_s=None)) as client:
        response = client.post(
            f"/api/v1/devices/{device}/commands",
            json={"command": "chase_on", "purpose": "M3 recovery under way"},
            headers=auth(token),
        )
    assert response.status_code == 202, response.text
    assert listener.arrived.wait(5)
    ((topic, qos, payload),) = listener.messages
    assert topic == f"trackers/{device}/command" and qos == 1
    sent = json.loads(payload)
    assert sent == response.json()["payload"]
    assert (sent["cmd"], sent["mode"], sent["issued_by"]) == ("set_interval", "chase", name)
    logged = _rows(db, "SELECT command, actor, purpose, status FROM device_commands WHERE device_id = %s", device)
    assert logged == [("chase_on", name, "M3 recovery under way", "sent")]
    audited = _rows(db, "SELECT action, subject_id, purpose FROM audit_log WHERE actor = %s", name)
    assert audited == [("command_chase_on", device, "M3 recovery under way")]


def test_broker_down_is_a_503_and_the_failure_is_logged(db: str, device: str) -> None:
    name, token = add_user(db, "admin")
    app = app_for(database_url=db, mqtt_url="mqtt://127.0.0.1:9", webhook_interval_s=None)
    with TestClient(app) as client:
        response = client.post(
            f"/api/v1/devices/{device}/commands",
            json={"command": "locate", "purpose": "where now"},
            headers=auth(token),
        )
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    logged = _rows(db, "SELECT command, status FROM device_commands WHERE device_id = %s", device)
    assert logged == [("locate", "failed")]
    assert _rows(db, "SELECT action FROM audit_log WHERE actor = %s", name) == [("command_locate",)]


def test_collectors_cannot_send_commands(db: str, mqtt_url: str, device: str, listener: Listener) -> None:
    _, token = add_user(db, "collector")
    with TestClient(app_for(database_url=db, mqtt_url=mqtt_url, webhook_interval_s=None)) as client:
        response = client.post(
            f"/api/v1/devices/{device}/commands", json={"command": "locate", "purpose": "curious"}, headers=auth(token)
        )
    assert response.status_code == 403
    assert not listener.arrived.wait(0.5)
