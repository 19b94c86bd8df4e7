"""Hostile input through the real broker and database: spoofing, floods, unstorable fixes.

- The shipped broker ACL refuses a tracker publishing on another device's topic.
- Where a spoof gets through (a broker without ACL), the ingestor quarantines it as device_mismatch.
- A flood of a few thousand hostile messages: each one quarantined once with a reason, every
  valid fix among them stored exactly once, and the ingestor still healthy afterwards.
- Accepted fixes whose unknown fields hold hostile strings are stored (jsonb), not refused.
"""

import random
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as paho
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import MQTTProtocolVersion

from benchmarks.local_mosquitto import PrivateMosquitto
from domain.position import Position
from domain.vocabulary import RejectReason
from ingest.decode import Limits, decode
from storage.migrate import current_layout
from storage.positions import PositionWriter
from tests.support.hostile_harness import SERVICE_PASSWORDS, AclMosquitto, Publisher, Recorder
from tests.support.ingest_harness import RunningIngest, count, publish, register, wait_for
from tests.unit.test_fuzz_decode import RECEIVED, nul_free, to_json, valid_fixes

pytestmark = [pytest.mark.db, pytest.mark.mqtt]

_REASONS = {r.value for r in RejectReason}


def _uid(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _fix(t: datetime, lat: float = 31.2304, lon: float = 121.4737, **extra: object) -> dict[str, object]:
    return {"ts": _iso(t), "lat": lat, "lon": lon, **extra}


def _writer_alive() -> bool:
    return any(t.name == "ingest-writer" and t.is_alive() for t in threading.enumerate())


# ---------------------------------------------------------------- (a) the broker ACL


@pytest.mark.parametrize("protocol", [paho.MQTTv311, paho.MQTTv5], ids=["mqtt311", "mqtt5"])
def test_broker_acl_refuses_a_tracker_publishing_as_another_device(
    tmp_path: Path, protocol: MQTTProtocolVersion
) -> None:
    a, b = _uid("trk-a"), _uid("trk-b")
    broker = AclMosquitto(tmp_path / "mosquitto", {a: "pw-a", b: "pw-b"})
    try:
        broker.start()
        ingest = Recorder(broker.port, "lienwatch-ingest", SERVICE_PASSWORDS["lienwatch-ingest"], "trackers/+/position")
        tracker = Publisher(broker.port, a, "pw-a", protocol)
        simulator = Publisher(broker.port, "lienwatch-simulator", SERVICE_PASSWORDS["lienwatch-simulator"])
        try:
            spoof_ack = tracker.publish(f"trackers/{b}/position", b"spoof: a speaking for b")
            own_ack = tracker.publish(f"trackers/{a}/position", b"own: a speaking for a")
            # The simulator may write any tracker topic: b's topic does reach the ingestor.
            simulator.publish(f"trackers/{b}/position", b"simulator for b")
            # One connection's messages arrive in order: once the later ones are in, the spoof
            # would have been too.
            assert ingest.wait_for(b"own: a speaking for a")
            assert ingest.wait_for(b"simulator for b")
        finally:
            tracker.close()
            simulator.close()
            ingest.close()
    finally:
        broker.stop()
    assert sorted(ingest.received) == sorted(
        [(f"trackers/{a}/position", b"own: a speaking for a"), (f"trackers/{b}/position", b"simulator for b")]
    )
    assert own_ack == 0
    # MQTT 5 tells the tracker (PUBACK 0x87 Not authorized); MQTT 3.1.1 has no way to, so it is dropped.
    assert spoof_ack == (0x87 if protocol == paho.MQTTv5 else 0)


# ---------------------------------------------------------------- (b) a spoof through a broker without ACL


@pytest.mark.parametrize("shape", ["object", "array"])
def test_spoof_through_an_open_broker_is_quarantined_as_device_mismatch(
    ingest_db: str,
    private_broker: PrivateMosquitto,
    shape: str,
) -> None:
    a, b, control = _uid("trk-a"), _uid("trk-b"), _uid("trk-c")
    register(ingest_db, a, b, control)
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
    spoof = _fix(t0, device_id=b)
    payload = orjson.dumps(spoof if shape == "object" else [spoof])
    with RunningIngest(ingest_db, private_broker.url):
        publish(
            private_broker.url,
            [(f"trackers/{a}/position", payload), (f"trackers/{control}/position", orjson.dumps(_fix(t0)))],
        )
        # The control fix was published after the spoof: once it is stored, the spoof was handled.
        assert wait_for(lambda: count(ingest_db, "SELECT count(*) FROM positions WHERE device_id = %s", control) == 1)

    with psycopg.connect(ingest_db) as conn:
        rows = conn.execute("SELECT topic, payload, reason, detail, device_id FROM quarantine").fetchall()
        stored = conn.execute("SELECT device_id FROM positions WHERE device_id IN (%s, %s)", (a, b)).fetchall()
    assert stored == []
    assert len(rows) == 1
    topic, raw, reason, detail, device = rows[0]
    assert (topic, bytes(raw), reason, device) == (f"trackers/{a}/position", orjson.dumps(spoof), "device_mismatch", a)
    assert b in detail and a in detail


# ---------------------------------------------------------------- (c) a flood of hostile messages


def _random_bytes(rng: random.Random) -> bytes:
    """Bytes that are not a non-empty JSON array (which would be judged element by element)."""
    while True:
        data = rng.randbytes(rng.randint(1, 512))
        try:
            body = orjson.loads(data)
        except orjson.JSONDecodeError:
            return data
        if not (isinstance(body, list) and body):
            return data


def _hostile(rng: random.Random, t: datetime) -> list[tuple[bytes, bytes]]:
    """Hostile messages, each one quarantine row: (payload sent, bytes the row must keep)."""
    dumps = orjson.dumps
    whole: list[bytes] = [_random_bytes(rng) for _ in range(1500)]
    whole += [  # oversized: the broker lets up to 256 KiB through, the ingestor's limit is 64 KiB
        dumps(_fix(t, pad="x" * rng.randint(65_536, 200 * 1024))) for _ in range(20)
    ]
    whole += [b"[" * d + b"]" * d for d in range(1025, 1100)]  # beyond the parser's depth limit
    for value in ("1e400", "-1e400", "1e308", "-1e308", "123456789012345678901234567890", "18446744073709551616"):
        for name in ("ts", "lat", "lon", "accuracy_m", "speed_kmh", "seq"):
            whole.append(dumps(_fix(t))[:-1] + f',"{name}":{value}}}'.encode())  # last key wins
    for text in ("三十一度", "🚗", "٣١٫٢", "\u202e31.2", "31.2\u00a0", "𝟑𝟏.𝟐"):
        whole.append(dumps({**_fix(t), "lat": text}))
        whole.append(dumps({**_fix(t), "ts": text}))
        whole.append(dumps({**_fix(t), "source": text}))
        whole.append(dumps({**_fix(t), "device_id": text}))
    for bad in (
        {"lat": "31.2"}, {"lat": None}, {"lon": True}, {"ts": "2026-11-29T10:00:00"},
        {"ts": _iso(t + timedelta(hours=1))}, {"ts": _iso(t - timedelta(days=200))}, {"lat": 0.0, "lon": 0.0},
        {"heading": 400}, {"alarms": [1]},
        {"alarms": ["sos\x00"]}, {"seq": -1}, {"ignition": "yes"}, {"source": "GLONASS"}, {"device_id": "someone-else"},
        {"battery_pct": 101}, {"speed_kmh": -3}, {"power_v": "12V"},
    ):  # fmt: skip
        whole += [dumps({**_fix(t), **bad})] * 20
    whole += [b"[]", b"42", b"null", b'"trackers"', b"{}", b"", b"\x00" * 64, b"\xff\xfe{}", b"{'lat': 1}"] * 20
    # Poison: each one made decode() raise and killed the writer before 900f387 (test_fuzz_decode POISON).
    whole += [dumps({**_fix(t), "source": []}), dumps({**_fix(t), "ts": "0001-01-01T00:00:00+01:00"})]
    hostile = [(p, p) for p in whole]
    # Arrays of one bad element: the row keeps that element's own bytes.
    hostile += [(b"[" * d + b"]" * d, b"[" * (d - 1) + b"]" * (d - 1)) for d in range(2, 200)]
    hostile += [(b"[" * 300 + b"]" * 300, b"[" * 300 + b"]" * 300)]  # poison: a re-encoding too deep
    bad_fix = dumps({**_fix(t), "lat": 91.5, "备注": "二押"})
    hostile += [(b"[" + bad_fix + b"]", bad_fix)] * 20
    return hostile


def test_flood_of_hostile_messages_quarantines_each_and_loses_no_valid_fix(
    ingest_db: str, private_broker: PrivateMosquitto
) -> None:
    rng = random.Random(8)
    device = _uid("flood")
    topic = f"trackers/{device}/position"
    register(ingest_db, device)
    now = datetime.now(UTC).replace(microsecond=0)
    hostile = _hostile(rng, now - timedelta(minutes=30))
    valid_ts = [now - timedelta(hours=1, seconds=i) for i in range(300)]
    extras: list[dict[str, object]] = [
        {},
        {"备注": "二押点 🚗"},
        {"firmware": "v2.1", "bytes": "\u202e\ufeff\U0010ffff"},
    ]
    valid = [orjson.dumps({**_fix(ts), **extras[i % 3]}) for i, ts in enumerate(valid_ts[:200])]
    valid += [orjson.dumps([_fix(valid_ts[i]), _fix(valid_ts[i + 1])]) for i in range(200, 300, 2)]  # buffered
    messages = [(topic, payload) for payload, _ in hostile] + [(topic, payload) for payload in valid]
    rng.shuffle(messages)
    last = now - timedelta(minutes=1)

    def done() -> bool:
        quarantined = count(ingest_db, "SELECT count(*) FROM quarantine")
        healthy = count(ingest_db, "SELECT count(*) FROM positions WHERE ts = %s", last) == 1
        return quarantined >= len(hostile) and healthy

    with RunningIngest(ingest_db, private_broker.url):
        publish(private_broker.url, messages)
        publish(private_broker.url, [(topic, orjson.dumps(_fix(last)))])  # is the ingestor still healthy?
        wait_for(lambda: done() or not _writer_alive(), timeout=60)
        assert _writer_alive(), "the ingest writer thread died"
        assert done()

    with psycopg.connect(ingest_db) as conn:
        stored = [ts for (ts,) in conn.execute("SELECT ts FROM positions WHERE device_id = %s", (device,))]
        rows = conn.execute("SELECT topic, payload, reason, detail, device_id FROM quarantine").fetchall()
    assert sorted(stored) == sorted([*valid_ts, last])  # each valid fix exactly once, nothing else
    assert len(rows) == len(hostile)
    assert Counter(bytes(raw) for _, raw, *_ in rows) == Counter(kept for _, kept in hostile)
    for row_topic, _, reason, detail, row_device in rows:
        assert (row_topic, row_device) == (topic, device)
        assert reason in _REASONS and reason != "store_error"
        assert detail


# ---------------------------------------------------------------- accepted fixes, stored for real


@pytest.fixture
def pg_writer(ingest_db: str) -> Iterator[tuple[psycopg.Connection[Any], PositionWriter]]:
    """One autocommit connection and the ingestor's PositionWriter on it."""
    with psycopg.connect(ingest_db, autocommit=True) as conn:
        layout = current_layout(conn)
        assert layout is not None
        yield conn, PositionWriter(conn, layout)


def _store_and_read_back(pg: tuple[psycopg.Connection[Any], PositionWriter], positions: list[Position]) -> list[Any]:
    """Insert positions as the ingestor does (one transaction, rolled back after), read extra back."""
    conn, writer = pg
    writer.ensure_days(positions)
    with conn.transaction(force_rollback=True):
        new = writer.insert(positions)
        assert len(new) == len({(p.device_id, p.ts) for p in positions})
        return [
            conn.execute("SELECT extra FROM positions WHERE device_id = %s AND ts = %s", (p.device_id, p.ts)).fetchone()
            for p in positions
        ]


def _as_stored(value: Any) -> Any:
    """A JSON value compared as jsonb gives it back: numbers as numbers (jsonb keeps 1.8e16 as
    the integer 18000000000000000), everything else exactly."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, list):
        return [_as_stored(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_stored(v) for k, v in value.items()}
    return value


_CONTRACT = {"ts", "lat", "lon", "accuracy_m", "speed_kmh", "heading", "ignition", "source", "battery_pct"}
_CONTRACT |= {"power_v", "alarms", "seq", "device_id"}
_hostile_text = st.text(max_size=20) | st.sampled_from(["a\x00b", "\x00", "'; DROP TABLE positions; --", "\\u0000"])
_hostile_extra = st.dictionaries(
    st.text(max_size=8).filter(lambda k: k not in _CONTRACT),
    st.recursive(
        st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False, allow_infinity=False)
        | _hostile_text,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_hostile_text, inner, max_size=3),
        max_leaves=8,
    ),
    min_size=1,
    max_size=4,
)  # fmt: skip


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(fixes=st.lists(valid_fixes(), min_size=1, max_size=3, unique_by=lambda f: f[1]), extra=_hostile_extra)
def test_accepted_fixes_with_hostile_unknown_fields_are_stored(
    pg_writer: tuple[psycopg.Connection[Any], PositionWriter],
    fixes: list[tuple[dict[str, Any], datetime]],
    extra: dict[str, Any],
) -> None:
    body = [{**fix, "device_id": "fz-1", **{k: v for k, v in extra.items() if k not in fix}} for fix, _ in fixes]
    decoded = decode("trackers/fz-1/position", to_json(body, ascii_only=False).encode(), RECEIVED, Limits())
    assert decoded.rejects == [] and len(decoded.positions) == len(fixes)
    read = _store_and_read_back(pg_writer, decoded.positions)
    for position, row in zip(decoded.positions, read, strict=True):
        assert row is not None
        assert _as_stored(row[0]) == _as_stored(position.extra)


def test_nul_character_in_unknown_field_does_not_fail_the_batch(
    pg_writer: tuple[psycopg.Connection[Any], PositionWriter],
) -> None:
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    payload = orjson.dumps(
        [_fix(t0), _fix(t0 + timedelta(seconds=1), note="a\x00b"), _fix(t0 + timedelta(seconds=2), **{"k\x00": 1})]
    )
    decoded = decode("trackers/nul-1/position", payload, t0 + timedelta(minutes=1), Limits())
    assert decoded.rejects == [] and len(decoded.positions) == 3  # valid fixes: unknown fields are kept
    read = _store_and_read_back(pg_writer, decoded.positions)
    assert all(row is not None for row in read)
    stored = [nul_free(row[0]) for row in read if row is not None]
    # Kept, NUL aside (dropped or replaced); a marker saying it was replaced is welcome.
    assert stored[0] is None
    assert stored[1] is not None and stored[1]["note"] == "ab"
    assert stored[2] is not None and stored[2]["k"] == 1
