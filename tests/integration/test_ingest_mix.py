"""A known mix of messages through a real Mosquitto into a real PostgreSQL: exact rows, exact reasons."""

from datetime import UTC, datetime, timedelta

import orjson
import psycopg
import pytest

from ingest import replay
from ingest.store import BatchStore
from lienwatch.wiring import limits
from tests.support.ingest_harness import RunningIngest, count, publish, register, wait_for

pytestmark = [pytest.mark.db, pytest.mark.mqtt]


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _fix(t: datetime, lat: float = 31.2304, lon: float = 121.4737, **extra: object) -> dict[str, object]:
    return {"ts": _iso(t), "lat": lat, "lon": lon, **extra}


def test_known_mix_stores_exact_rows_and_quarantines_exact_reasons(ingest_db: str, private_broker) -> None:  # type: ignore[no-untyped-def]
    register(ingest_db, "car-1", "alice-phone")
    now = datetime.now(UTC).replace(microsecond=0)
    t0 = now - timedelta(minutes=5)
    topic = "trackers/car-1/position"
    dumps = orjson.dumps
    messages = [
        (topic, dumps(_fix(t0, accuracy_m=8, speed_kmh=42.5, ignition=True, seq=7, firmware="v2.1"))),
        (topic, dumps(_fix(t0, accuracy_m=8))),  # duplicate: same device, same ts
        (topic, dumps(_fix(t0 - timedelta(seconds=60)))),  # out of order, valid
        (topic, dumps([_fix(t0 - timedelta(seconds=300)), _fix(t0 - timedelta(seconds=240)), _fix(t0, lat=95.0)])),
        (topic, dumps({"ts": int((t0 - timedelta(seconds=30)).timestamp()), "lat": 31.23, "lon": 121.47})),
        (topic, b"{not json"),
        (topic, b"42"),
        (topic, dumps({"ts": _iso(t0), "lon": 121.47})),  # missing lat
        (topic, dumps({"ts": _iso(t0 - timedelta(seconds=1)), "lat": "31.2", "lon": 121.47})),
        (topic, b'{"ts": "%s", "lat": 1e999, "lon": 121.47}' % _iso(t0 - timedelta(seconds=2)).encode()),
        (topic, dumps(_fix(t0 - timedelta(seconds=3), lat=0.0, lon=0.0))),
        (topic, dumps(_fix(now + timedelta(hours=1)))),
        (topic, dumps({**_fix(t0 - timedelta(seconds=4)), "device_id": "car-2"})),
        (topic, dumps({**_fix(t0 - timedelta(seconds=5)), "pad": "x" * 70_000})),
        (topic, b"[]"),
        (topic, dumps({"ts": "2026-11-29T10:00:00", "lat": 31.2, "lon": 121.4})),  # no offset
        (topic, dumps(_fix(now - timedelta(days=200)))),
        ("trackers/ghost-9/position", dumps(_fix(t0 - timedelta(seconds=6)))),
        (
            "owntracks/alice/phone",
            dumps({"_type": "location", "lat": 30.2741, "lon": 120.1551, "tst": int(t0.timestamp()), "acc": 12}),
        ),
    ]
    with RunningIngest(ingest_db, private_broker.url):
        publish(private_broker.url, messages)
        assert wait_for(lambda: count(ingest_db, "SELECT count(*) FROM quarantine") >= 14, timeout=20)
        assert wait_for(lambda: count(ingest_db, "SELECT count(*) FROM positions") >= 6, timeout=5)

    with psycopg.connect(ingest_db) as conn:
        stored = conn.execute(
            "SELECT device_id, ts, accuracy_m, seq, extra FROM positions ORDER BY device_id, ts"
        ).fetchall()
        reasons = sorted(r for (r,) in conn.execute("SELECT reason FROM quarantine").fetchall())

    assert [(d, ts) for d, ts, *_ in stored] == [
        ("alice-phone", t0),
        ("car-1", t0 - timedelta(seconds=300)),
        ("car-1", t0 - timedelta(seconds=240)),
        ("car-1", t0 - timedelta(seconds=60)),
        ("car-1", t0 - timedelta(seconds=30)),
        ("car-1", t0),
    ]
    first = next(row for row in stored if row[0] == "car-1" and row[1] == t0)
    assert first[2] == 8.0 and first[3] == 7 and first[4] == {"firmware": "v2.1"}  # unknown field kept
    assert reasons == sorted(
        [
            "out_of_range",  # lat 95 inside the array
            "bad_json",
            "bad_shape",
            "missing_field",
            "bad_type",  # "31.2"
            "bad_json",  # 1e999 overflows a double: the JSON parser refuses it
            "zero_position",
            "future_fix",
            "device_mismatch",
            "too_large",
            "empty",
            "bad_type",  # no UTC offset
            "expired_fix",
            "unknown_device",
        ]
    )


def test_unknown_device_is_replayed_once_registered(ingest_db: str, private_broker) -> None:  # type: ignore[no-untyped-def]
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    payload = orjson.dumps([_fix(t0), _fix(t0 + timedelta(seconds=10)), _fix(t0, lat=-91.0)])
    with RunningIngest(ingest_db, private_broker.url) as running:
        publish(private_broker.url, [("trackers/late-7/position", payload)])
        assert wait_for(lambda: count(ingest_db, "SELECT count(*) FROM quarantine") == 1)
    assert count(ingest_db, "SELECT count(*) FROM positions") == 0

    register(ingest_db, "late-7")
    store = BatchStore(ingest_db)
    with psycopg.connect(ingest_db, autocommit=True) as conn:
        report = replay.replay(conn, store, limits(running.settings), reason="unknown_device")
        again = replay.replay(conn, store, limits(running.settings), reason="unknown_device")
    store.close()
    assert (report.replayed, report.positions_stored) == (1, 2)
    assert (again.replayed, again.positions_stored) == (0, 0)
    assert count(ingest_db, "SELECT count(*) FROM positions WHERE device_id = 'late-7'") == 2
    # The one bad fix of the replayed array is now quarantined under its own reason.
    assert count(ingest_db, "SELECT count(*) FROM quarantine WHERE reason = 'out_of_range'") == 1
    assert count(ingest_db, "SELECT count(*) FROM quarantine WHERE replayed_at IS NOT NULL") == 1
