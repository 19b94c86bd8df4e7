"""Synthetic tracker traffic for the ingest benchmark, and parallel QoS 1 publishers."""

import multiprocessing
import time
import uuid
from collections import deque
from datetime import UTC, datetime, timedelta

import orjson
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from ingest.link import BrokerAddress


def device_ids(count: int) -> list[str]:
    """The benchmark fleet's device ids."""
    return [f"bench-{n:05d}" for n in range(count)]


def messages(devices: list[str], per_device: int, start: datetime, *, offset: int = 0) -> list[tuple[str, bytes]]:
    """Wired-tracker fixes, interleaved across the fleet as they would arrive, each (device, ts) unique."""
    out: list[tuple[str, bytes]] = []
    for i in range(per_device):
        ts = start + timedelta(seconds=15 * (i + offset))
        stamp = ts.isoformat().replace("+00:00", "Z")
        for n, device in enumerate(devices):
            body = {
                "ts": stamp,
                "lat": 31.0 + (n % 500) * 1e-3 + i * 1e-5,
                "lon": 121.0 + (n // 500) * 1e-3,
                "accuracy_m": 8.0,
                "speed_kmh": 35.5,
                "heading": (i * 7) % 360,
                "ignition": True,
                "seq": i + offset,
            }
            out.append((f"trackers/{device}/position", orjson.dumps(body)))
    return out


def _publish_worker(url: str, batch: list[tuple[str, bytes]], deadline: float) -> int:
    address = BrokerAddress.parse(url)
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex[:8]}")
    client.max_inflight_messages_set(2000)
    client.max_queued_messages_set(0)
    client.connect(address.host, address.port)
    client.loop_start()
    # Packet ids are 16-bit: keep well under 65,535 messages outstanding.
    pending: deque[paho.MQTTMessageInfo] = deque()
    sent = 0
    for topic, payload in batch:
        pending.append(client.publish(topic, payload, qos=1))
        sent += 1
        if len(pending) > 20_000:
            pending.popleft().wait_for_publish(60)
        if deadline and sent % 500 == 0 and time.time() > deadline:
            break
    for info in pending:
        info.wait_for_publish(60)
    client.disconnect()
    client.loop_stop()
    return sent


def publish_parallel(
    url: str, batch: list[tuple[str, bytes]], processes: int, *, seconds: float = 0.0
) -> tuple[int, float]:
    """Publish from `processes` OS processes (optionally stopping after `seconds`); (count, elapsed)."""
    shares = [batch[k::processes] for k in range(processes)]
    deadline = time.time() + seconds if seconds else 0.0
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        counts = pool.starmap(_publish_worker, [(url, share, deadline) for share in shares])
    return sum(counts), time.perf_counter() - started


def fleet_start(per_device: int) -> datetime:
    """A start time that keeps every generated fix in the past."""
    return datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=15 * per_device * 3 + 3600)
