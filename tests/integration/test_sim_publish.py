"""Publishing through the real Mosquitto reaches a real paho subscriber intact, paced and in parallel."""

import functools
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from simulators.messy import Messiness
from simulators.payloads import Message
from simulators.publish import load, publish, share_of
from simulators.simulation import SimConfig, simulate

pytestmark = pytest.mark.mqtt

START = datetime(2026, 11, 2, tzinfo=UTC)
SUBSCRIBER_RATE = 2000.0


class Subscriber:
    """A plain paho client collecting what it receives on the given topics."""

    def __init__(self, url: str, topics: list[str]) -> None:
        parts = urlsplit(url)
        self.received: list[tuple[str, bytes]] = []
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: self.subscribed.set()
        self.client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
        self.client.loop_start()
        self.client.subscribe([(topic, 1) for topic in topics])
        assert self.subscribed.wait(10)

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.received.append((message.topic, bytes(message.payload)))

    def wait_for(self, count: int, timeout: float = 30.0) -> list[tuple[str, bytes]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    break
            time.sleep(0.05)
        time.sleep(0.2)  # anything beyond `count` would be a duplicate we did not send
        self.client.disconnect()
        self.client.loop_stop()
        return list(self.received)


def _sim(prefix: str, vehicles: int = 3, messy: Messiness | None = None) -> list[Message]:
    config = SimConfig(vehicles=vehicles, days=1, seed=5, start=START, scenarios="none", id_prefix=prefix, messy=messy)
    return list(simulate(config).messages())


def _messages(prefix: str, vehicles: int) -> list[Message]:
    return _sim(prefix, vehicles)


def test_published_messages_reach_a_subscriber_intact_and_in_order(mqtt_url: str, topic_prefix: str) -> None:
    messages = _sim(topic_prefix, messy=Messiness(malformed_rate=0.02))
    topics = sorted({m.topic for m in messages})
    assert all(t.startswith(f"trackers/{topic_prefix}-") for t in topics)
    sub = Subscriber(mqtt_url, topics)
    # Paced so the subscriber keeps up: Mosquitto drops QoS 1 messages past max_queued_messages (1000).
    report = publish(mqtt_url, messages, rate=SUBSCRIBER_RATE)
    received = sub.wait_for(len(messages))
    assert report.sent == report.acked == len(messages) > 300
    assert Counter(received) == Counter((m.topic, m.payload) for m in messages)
    for topic in topics:  # one publisher, QoS 1: each topic arrives in publish order
        assert [p for t, p in received if t == topic] == [m.payload for m in messages if m.topic == topic]


def test_rate_paces_the_publisher(mqtt_url: str, topic_prefix: str) -> None:
    messages = _sim(topic_prefix)[:300]
    report = publish(mqtt_url, messages, rate=500.0)
    assert report.acked == 300
    assert 0.55 <= report.seconds < 3.0  # 300 messages at 500/s take 0.6 s


def test_load_splits_devices_across_processes(mqtt_url: str, topic_prefix: str) -> None:
    factory = functools.partial(_messages, topic_prefix, 6)
    messages = factory()
    topics = sorted({m.topic for m in messages})
    assert len({share_of(t, 3) for t in topics}) >= 2
    sub = Subscriber(mqtt_url, topics)
    report = load(mqtt_url, factory, processes=3, rate=SUBSCRIBER_RATE)
    received = sub.wait_for(len(messages))
    assert report.acked == report.sent == len(messages)
    assert len(report.per_process) == 3
    assert [r.sent for r in report.per_process] == [
        sum(1 for m in messages if share_of(m.topic, 3) == i) for i in range(3)
    ]
    assert Counter(received) == Counter((m.topic, m.payload) for m in messages)
