"""A stream for fault tests: valid fixes from registered cars, some carrying a power-cut alarm,
and a publisher that survives a broker restart and knows what the broker acknowledged."""

import uuid
from collections import deque
from datetime import datetime, timedelta

import orjson
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

DEVICES = [f"flt-{n:03d}" for n in range(100)]
ALARMED = DEVICES[::10]  # these cars report one power cut each: exactly 10 alerts must open


def stream(total: int, start: datetime) -> list[tuple[str, bytes]]:
    """`total` valid fixes spread over DEVICES, each (device, ts) unique; ALARMED cars cut power once."""
    messages = []
    per_device = total // len(DEVICES)
    for n in range(total):
        device = DEVICES[n % len(DEVICES)]
        step = n // len(DEVICES)
        ts = start + timedelta(seconds=30 * step)
        body: dict[str, object] = {
            "ts": ts.isoformat().replace("+00:00", "Z"),
            "lat": 31.2 + (n % 97) * 1e-5,
            "lon": 121.4,
            "seq": n,
        }
        if device in ALARMED and step == per_device // 2:
            body["alarms"] = ["power_cut"]
        messages.append((f"trackers/{device}/position", orjson.dumps(body)))
    return messages


class ResilientPublisher:
    """QoS 1 publisher on a persistent session: paho re-sends what the broker had not acked."""

    def __init__(self, port: int) -> None:
        self.acked: set[int] = set()
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=f"flt-pub-{uuid.uuid4().hex[:8]}", clean_session=False
        )
        self.client.max_inflight_messages_set(100)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(0.2, 2)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def publish_all(self, messages: list[tuple[str, bytes]], window: int = 5000) -> None:
        """Publish every message, keeping at most `window` unacknowledged (16-bit packet ids);
        `acked` ends with the index of every message the broker acknowledged."""
        pending: deque[tuple[int, paho.MQTTMessageInfo]] = deque()
        for index, (topic, payload) in enumerate(messages):
            pending.append((index, self.client.publish(topic, payload, qos=1)))
            if len(pending) > window:
                self._settle(*pending.popleft())
        while pending:
            self._settle(*pending.popleft())

    def _settle(self, index: int, info: paho.MQTTMessageInfo) -> None:
        info.wait_for_publish(120)
        if info.is_published():
            self.acked.add(index)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
