"""The wire contract, fix by fix: what is accepted and the exact reason for what is not."""

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from domain.vocabulary import RejectReason
from ingest.decode import Limits, decode
from ingest.topics import TopicError, command_topic, parse_topic, subscriptions

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
LIMITS = Limits()
TOPIC = "trackers/car-1/position"


def one(body: object, topic: str = TOPIC, limits: Limits = LIMITS):  # type: ignore[no-untyped-def]
    return decode(topic, orjson.dumps(body), NOW, limits)


def reason(body: object, **kw: object) -> RejectReason:
    decoded = one(body, **kw)  # type: ignore[arg-type]
    assert not decoded.positions
    assert len(decoded.rejects) == 1
    return decoded.rejects[0].reason


def test_full_fix_is_decoded_with_every_field() -> None:
    body = {
        "ts": "2026-11-29T11:59:00Z",
        "lat": 31.2304,
        "lon": 121.4737,
        "accuracy_m": 12.5,
        "speed_kmh": 48,
        "heading": 359.5,
        "ignition": False,
        "source": "lbs",
        "battery_pct": 77,
        "power_v": 12.6,
        "alarms": ["power_cut", "new_firmware_alarm"],
        "seq": 42,
        "device_id": "car-1",
        "rssi": -71,
    }
    (p,) = one(body).positions
    assert p.ts == datetime(2026, 11, 29, 11, 59, tzinfo=UTC)
    assert (p.lat, p.lon, p.accuracy_m, p.speed_kmh, p.heading) == (31.2304, 121.4737, 12.5, 48.0, 359.5)
    assert (p.ignition, p.source, p.battery_pct, p.power_v, p.seq) == (False, "lbs", 77.0, 12.6, 42)
    assert p.alarms == ("power_cut", "new_firmware_alarm")
    assert p.extra == {"rssi": -71}
    assert p.coarse  # an LBS fix never decides a fence crossing


def test_epoch_seconds_and_offsets_are_normalised_to_utc() -> None:
    (a,) = one({"ts": 1_795_950_000, "lat": 1.0, "lon": 1.0}).positions
    assert a.ts == datetime.fromtimestamp(1_795_950_000, UTC)
    (b,) = one({"ts": "2026-11-29T19:30:00+08:00", "lat": 1.0, "lon": 1.0}).positions
    assert b.ts == datetime(2026, 11, 29, 11, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"lat": 1.0, "lon": 1.0}, RejectReason.MISSING_FIELD),
        ({"ts": "2026-11-29T11:00:00Z", "lon": 1.0}, RejectReason.MISSING_FIELD),
        ({"ts": "2026-11-29T11:00:00Z", "lat": "31.2", "lon": 1.0}, RejectReason.BAD_TYPE),
        ({"ts": "2026-11-29T11:00:00Z", "lat": True, "lon": 1.0}, RejectReason.BAD_TYPE),
        ({"ts": "2026-11-29T11:00:00Z", "lat": 90.0001, "lon": 1.0}, RejectReason.OUT_OF_RANGE),
        ({"ts": "2026-11-29T11:00:00Z", "lat": 1.0, "lon": -180.5}, RejectReason.OUT_OF_RANGE),
        ({"ts": "2026-11-29T11:00:00Z", "lat": 0, "lon": 0}, RejectReason.ZERO_POSITION),
        ({"ts": "2026-11-29T11:00:00", "lat": 1.0, "lon": 1.0}, RejectReason.BAD_TYPE),
        ({"ts": "yesterday", "lat": 1.0, "lon": 1.0}, RejectReason.BAD_TYPE),
        ({"ts": 1_795_950_000_000, "lat": 1.0, "lon": 1.0}, RejectReason.OUT_OF_RANGE),  # milliseconds
        ({"ts": -5, "lat": 1.0, "lon": 1.0}, RejectReason.OUT_OF_RANGE),
        ({"ts": "2026-11-29T11:00:00Z", "lat": 1.0, "lon": 1.0, "heading": 361}, RejectReason.OUT_OF_RANGE),
        ({"ts": "2026-11-29T11:00:00Z", "lat": 1.0, "lon": 1.0, "accuracy_m": -1}, RejectReason.OUT_OF_RANGE),
        ({"ts": "2026-11-29T11:00:00Z", "lat": 1.0, "lon": 1.0, "ignition": "on"}, RejectReason.BAD_TYPE),
        ({"ts": "2026-11-29T11:00:00Z", "lat": 1.0, "lon": 1.0, "source": "glonass"}, RejectReason.BAD_TYPE),
        ({"ts": "2026-11-29T11:00:00Z", "lat": 1.0, "lon": 1.0, "alarms": "power_cut"}, RejectReason.BAD_TYPE),
        ({"ts": "2026-11-29T11:00:00Z", "lat": 1.0, "lon": 1.0, "seq": 1.5}, RejectReason.BAD_TYPE),
        ({"ts": "2026-11-29T11:00:00Z", "lat": 1.0, "lon": 1.0, "device_id": "car-2"}, RejectReason.DEVICE_MISMATCH),
    ],
)
def test_each_broken_field_is_rejected_with_its_reason(body: dict[str, object], expected: RejectReason) -> None:
    assert reason(body) == expected


def test_reject_detail_names_the_field() -> None:
    decoded = one({"ts": "2026-11-29T11:00:00Z", "lat": 1.0, "lon": 1.0, "speed_kmh": "fast"})
    assert decoded.rejects[0].detail.startswith("speed_kmh:")


def test_future_threshold_is_ten_minutes_inclusive() -> None:
    at_limit = NOW + timedelta(minutes=10)
    beyond = at_limit + timedelta(seconds=1)
    assert one({"ts": at_limit.isoformat(), "lat": 1.0, "lon": 1.0}).positions
    assert reason({"ts": beyond.isoformat(), "lat": 1.0, "lon": 1.0}) == RejectReason.FUTURE_FIX


def test_fix_older_than_retention_is_expired() -> None:
    old = NOW - timedelta(days=180, seconds=1)
    assert reason({"ts": old.isoformat(), "lat": 1.0, "lon": 1.0}) == RejectReason.EXPIRED_FIX


def test_array_keeps_good_fixes_and_rejects_each_bad_one_alone() -> None:
    body = [
        {"ts": "2026-11-29T11:00:00Z", "lat": 31.0, "lon": 121.0},
        {"ts": "2026-11-29T11:01:00Z", "lat": 0, "lon": 0},
        "garbage",
        {"ts": "2026-11-29T11:02:00Z", "lat": 31.1, "lon": 121.1},
    ]
    decoded = one(body)
    assert [p.lat for p in decoded.positions] == [31.0, 31.1]
    assert [(r.reason, r.detail[:3]) for r in decoded.rejects] == [
        (RejectReason.ZERO_POSITION, "[1]"),
        (RejectReason.BAD_SHAPE, "[2]"),
    ]
    assert orjson.loads(decoded.rejects[0].payload) == body[1]  # the bad fix alone, for replay


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"{oops", RejectReason.BAD_JSON),
        (b"NaN", RejectReason.BAD_JSON),
        (b'"a string"', RejectReason.BAD_SHAPE),
        (b"[]", RejectReason.EMPTY),
    ],
)
def test_message_level_rejects(payload: bytes, expected: RejectReason) -> None:
    decoded = decode(TOPIC, payload, NOW, LIMITS)
    assert [r.reason for r in decoded.rejects] == [expected]
    assert decoded.rejects[0].payload == payload


def test_payload_over_the_limit_is_too_large_and_exactly_at_it_is_read() -> None:
    limits = Limits(max_payload_bytes=256)
    body = {"ts": "2026-11-29T11:00:00Z", "lat": 31.0, "lon": 121.0, "pad": ""}
    base = len(orjson.dumps(body))
    body["pad"] = "x" * (256 - base)
    assert len(orjson.dumps(body)) == 256
    assert one(body, limits=limits).positions
    body["pad"] += "x"
    assert reason(body, limits=limits) == RejectReason.TOO_LARGE


def test_owntracks_location_is_mapped_and_other_types_refused() -> None:
    topic = "owntracks/alice/phone"
    body = {
        "_type": "location",
        "lat": 30.27,
        "lon": 120.15,
        "tst": 1_795_950_000,
        "acc": 15,
        "vel": 30,
        "cog": 90,
        "batt": 55,
        "tid": "al",
    }
    (p,) = one(body, topic=topic).positions
    assert p.device_id == "alice-phone"
    assert (p.accuracy_m, p.speed_kmh, p.heading, p.battery_pct) == (15.0, 30.0, 90.0, 55.0)
    assert p.extra is None
    assert reason({"_type": "transition", "lat": 1.0, "lon": 1.0, "tst": 1}, topic=topic) == RejectReason.BAD_SHAPE


def test_topics() -> None:
    assert parse_topic("trackers/abc-1/position").device_id == "abc-1"
    with pytest.raises(TopicError):
        parse_topic("trackers/abc-1/command")
    with pytest.raises(TopicError):
        parse_topic("trackers//position")
    assert decode("trackers/x/other", b"{}", NOW, LIMITS).rejects[0].reason == RejectReason.BAD_TOPIC
    assert command_topic("abc-1") == "trackers/abc-1/command"
    assert subscriptions("g1") == [
        "$share/g1/trackers/+/position",
        "$share/g1/owntracks/+/+",
        "$share/g1/jt808/+/+/up",
    ]
    assert subscriptions(None) == ["trackers/+/position", "owntracks/+/+", "jt808/+/+/up"]
