"""The anchors the ingestor is measured against: a bare aiomqtt loop, a naive ingestor, raw COPY."""

import asyncio
import threading
import time
from datetime import UTC, datetime

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from ingest.decode import Limits, decode
from ingest.link import BrokerAddress
from storage.database import connect
from storage.positions import COLUMNS, COPY_TYPES, copy_row

_SCRATCH = """
    CREATE TABLE IF NOT EXISTS {name} (LIKE positions INCLUDING DEFAULTS, PRIMARY KEY (device_id, ts))
"""


async def _bare_session(url: str, client_id: str, expected: int | None) -> float:
    address = BrokerAddress.parse(url)
    # Timed from the connect: the broker starts sending the backlog as soon as the session resumes.
    started = time.perf_counter()
    async with aiomqtt.Client(address.host, address.port, identifier=client_id, clean_session=False) as client:
        await client.subscribe("trackers/+/position", qos=1)
        if expected is None:
            return 0.0
        received = 0
        async for _message in client.messages:
            received += 1
            if received == expected:
                return time.perf_counter() - started
    return 0.0


def bare_aiomqtt_subscribe(url: str, client_id: str) -> None:
    """Create the persistent session (subscribe, then leave) so the broker queues for it."""
    asyncio.run(_bare_session(url, client_id, None))


def bare_aiomqtt_drain(url: str, client_id: str, expected: int) -> float:
    """Receive `expected` queued QoS 1 messages with nothing else done; returns msgs/s."""
    seconds = asyncio.run(asyncio.wait_for(_bare_session(url, client_id, expected), timeout=600))
    return expected / seconds


def naive_subscribe(url: str, client_id: str) -> None:
    """Create the naive ingestor's persistent session."""
    _naive(url, client_id, None, 0)


def naive_drain(url: str, client_id: str, database_url: str, expected: int) -> float:
    """Per message: decode, INSERT, COMMIT (auto-ack). Returns positions/s over `expected` messages."""
    return _naive(url, client_id, database_url, expected)


def _naive(url: str, client_id: str, database_url: str | None, expected: int) -> float:
    address = BrokerAddress.parse(url)
    done = threading.Event()
    subscribed = threading.Event()
    state = {"n": 0, "first": 0.0, "last": 0.0}
    conn = None
    if database_url:
        conn = connect(database_url, autocommit=True)
        conn.execute(_SCRATCH.format(name="bench_naive"))
    limits = Limits()
    columns = "device_id, ts, lat, lon, accuracy_m, speed_kmh, heading, ignition, source, seq, received_at"
    insert = f"INSERT INTO bench_naive ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"

    def on_message(_c: paho.Client, _u: object, message: paho.MQTTMessage) -> None:
        if conn is None:
            return
        if state["n"] == 0:
            state["first"] = time.perf_counter()
        decoded = decode(message.topic, bytes(message.payload), datetime.now(UTC), limits)
        for p in decoded.positions:
            conn.execute(
                insert,
                (
                    p.device_id,
                    p.ts,
                    p.lat,
                    p.lon,
                    p.accuracy_m,
                    p.speed_kmh,
                    p.heading,
                    p.ignition,
                    p.source,
                    p.seq,
                    p.received_at,
                ),
            )
        state["n"] += 1
        if state["n"] >= expected:
            state["last"] = time.perf_counter()
            done.set()

    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    client.on_message = on_message
    client.on_subscribe = lambda *_: subscribed.set()
    client.connect(address.host, address.port)
    client.loop_start()
    client.subscribe("trackers/+/position", qos=1)
    subscribed.wait(10)
    if conn is not None:
        done.wait(600)
    client.disconnect()
    client.loop_stop()
    if conn is None:
        return 0.0
    conn.close()
    return expected / (state["last"] - state["first"])


def copy_rate(database_url: str, payloads: list[tuple[str, bytes]]) -> float:
    """Raw binary COPY of the same rows into an empty table with the positions key; rows/s."""
    now = datetime.now(UTC)
    limits = Limits()
    rows = [copy_row(p) for topic, body in payloads for p in decode(topic, body, now, limits).positions]
    with connect(database_url, autocommit=True) as conn:
        conn.execute(_SCRATCH.format(name="bench_copy"))
        conn.execute("TRUNCATE bench_copy")
        started = time.perf_counter()
        with (
            conn.transaction(),
            conn.cursor() as cur,
            cur.copy(f"COPY bench_copy ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.set_types(COPY_TYPES)
            for row in rows:
                copy.write_row(row)
        return len(rows) / (time.perf_counter() - started)
