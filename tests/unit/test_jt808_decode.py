"""JT/T 808 messages through the one decoder: native frames and EMQX's JSON give the same fixes,
validated like every MQTT fix; each bad frame or report is refused with its reason."""

from datetime import UTC, datetime

import orjson
import pytest

from domain.vocabulary import RejectReason
from ingest.decode import Decoded, Limits, decode
from tests.unit.jt808_bytes import PHONE_2013, PHONE_2019, bcd, bulk, frame, item, location
from wire.jt808.fields import terminal_time
from wire.jt808.location import LocationReport, encode_location, parse_location

NOW = datetime(2026, 12, 3, 4, 5, tzinfo=UTC)
TOPIC = f"jt808-tcp/{PHONE_2013}"
LIMITS = Limits()


def native(raw: bytes, topic: str = TOPIC, limits: Limits = LIMITS) -> Decoded:
    return decode(topic, raw, NOW, limits)


def refused(raw: bytes, topic: str = TOPIC) -> tuple[RejectReason, str]:
    decoded = native(raw, topic)
    assert not decoded.positions and len(decoded.rejects) == 1, decoded
    assert decoded.rejects[0].payload == raw
    return decoded.rejects[0].reason, decoded.rejects[0].detail


def test_a_2013_location_report_maps_every_field() -> None:
    items = item(0x01, (123456).to_bytes(4, "big")) + item(0x30, b"\x17") + item(0x31, b"\x09")
    (p,) = native(frame(0x0200, location(items=items))).positions
    assert p.device_id == PHONE_2013
    assert p.ts == datetime(2026, 12, 3, 4, 0, tzinfo=UTC)  # 12:00 in UTC+8
    assert (p.lat, p.lon) == (31.230416, 121.473701)
    assert (p.speed_kmh, p.heading, p.ignition, p.accuracy_m, p.source) == (45.6, 270.0, True, 15.0, "gps")
    assert p.alarms == ()
    assert p.extra == {"altitude_m": 12, "satellites": 9, "mileage_km": 12345.6, "rssi": 23}


def test_a_2019_report_is_known_by_its_twenty_digit_phone() -> None:
    raw = frame(0x0200, location(), phone=PHONE_2019, version=1)
    (p,) = native(raw, f"jt808-tcp/{PHONE_2019}").positions
    assert p.device_id == PHONE_2019


def test_south_and_west_come_from_the_status_bits_and_acc_off_is_ignition_off() -> None:
    (p,) = native(frame(0x0200, location(status=0b1110, lat=33_868_820, lon=151_209_296))).positions
    assert (p.lat, p.lon, p.ignition) == (-33.86882, -151.209296, False)


@pytest.mark.parametrize(
    ("bit", "alarm"),
    [
        (0, "sos"),
        (4, "jamming"),
        (5, "tamper"),
        (6, "tamper"),
        (7, "low_battery"),
        (8, "power_cut"),
        (26, "stolen"),
        (28, "illegal_move"),
    ],
)
def test_alarm_flags_map_onto_the_projects_alarms(bit: int, alarm: str) -> None:
    (p,) = native(frame(0x0200, location(alarm=1 << bit))).positions
    assert p.alarms == (alarm,)
    assert p.extra is not None and p.extra["alarm_flags"] == 1 << bit


def test_antenna_cut_and_short_together_are_one_tamper_and_unmapped_flags_stay_raw() -> None:
    (p,) = native(frame(0x0200, location(alarm=1 << 5 | 1 << 6 | 1 << 1))).positions  # + overspeed
    assert p.alarms == ("tamper",)
    assert p.extra is not None and p.extra["alarm_flags"] == 0b1100010


def test_the_vendor_removal_bit_is_read_only_when_configured() -> None:
    raw = frame(0x0200, location(alarm=1 << 16))
    assert native(raw).positions[0].alarms == ()
    assert native(raw, limits=Limits(removal_alarm_bit=16)).positions[0].alarms == ("removal",)


def test_an_unpositioned_report_is_never_a_position() -> None:
    reason, detail = refused(frame(0x0200, location(status=0b01)))
    assert reason == RejectReason.NO_FIX and "not positioned" in detail


def test_few_satellites_make_a_coarse_fix() -> None:
    (p,) = native(frame(0x0200, location(items=item(0x31, b"\x03")))).positions
    assert p.coarse


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (location(lat=91_000_000), RejectReason.OUT_OF_RANGE),
        (location(lat=0, lon=0), RejectReason.ZERO_POSITION),
        (location(time="261303120000"), RejectReason.OUT_OF_RANGE),  # month 13
        (location(time="261203130000"), RejectReason.FUTURE_FIX),  # 05:00 UTC, 55 min ahead
        (location(speed=20_000), RejectReason.OUT_OF_RANGE),  # 2,000 km/h
        (location(status=0b100011), RejectReason.UNSUPPORTED),  # coordinates encrypted
        (location(items=item(0x31, b"\x01\x02")), RejectReason.BAD_TYPE),  # satellites need one byte
        (location()[:27], RejectReason.BAD_FRAME),
        (location() + b"\x01\x04\x00", RejectReason.BAD_FRAME),  # item longer than what is left
    ],
)
def test_impossible_reports_are_refused_with_their_reason(body: bytes, reason: RejectReason) -> None:
    assert refused(frame(0x0200, body))[0] == reason


def test_broken_frames_are_bad_frames() -> None:
    good = frame(0x0200, location())
    bad_code = good[:-2] + bytes([good[-2] ^ 0xFF]) + good[-1:]
    for raw in (bad_code, good[: len(good) // 2], good[1:], b"\x7e\x7e", good[:-1] + b"\x7d\x03\x7e"):
        assert refused(raw)[0] == RejectReason.BAD_FRAME


def test_unknown_message_ids_and_rsa_bodies_are_refused() -> None:
    assert refused(frame(0x0900, b"\x01abc"))[0] == RejectReason.UNKNOWN_MESSAGE
    assert refused(frame(0x0200, location(), encryption=1))[0] == RejectReason.UNSUPPORTED


def test_messages_without_positions_store_nothing_and_refuse_nothing() -> None:
    decoded = native(frame(0x0002, b""))
    assert decoded.positions == [] and decoded.rejects == []


def test_refused_session_messages_are_quarantined_with_why() -> None:
    registration = frame(0x0100, b"\x00" * 37 + b"ABC123")
    assert refused(registration, f"{TOPIC}/refused")[0] == RejectReason.UNKNOWN_DEVICE
    assert refused(frame(0x0200, location()), f"{TOPIC}/refused")[0] == RejectReason.UNAUTHENTICATED
    assert refused(frame(0x0200, location()), "jt808-tcp/013900000000")[0] == RejectReason.DEVICE_MISMATCH


def test_a_bulk_upload_keeps_each_good_report_and_refuses_each_bad_one_alone() -> None:
    reports = [location(time="261203115800"), location(status=0b01), location(time="261203115900")]
    decoded = native(frame(0x0704, bulk(reports, kind=1)))  # blind-area backfill
    assert [p.ts.minute for p in decoded.positions] == [58, 59]
    (reject,) = decoded.rejects
    assert reject.reason == RejectReason.NO_FIX and reject.detail.startswith("[1] ")


def test_bulk_counts_must_match_the_items() -> None:
    body = bulk([location()])
    assert refused(frame(0x0704, body[:-1]))[0] == RejectReason.BAD_FRAME
    assert refused(frame(0x0704, b"\x00\x02" + body[2:]))[0] == RejectReason.BAD_FRAME
    assert refused(frame(0x0704, body + b"\x00"))[0] == RejectReason.BAD_FRAME


def test_subpackages_are_reassembled_in_any_order() -> None:
    body = bulk([location(time=f"2612031{m}0000") for m in "01"] + [location(time="261203115959")])
    cut = len(body) // 2
    first = frame(0x0704, body[:cut], serial=41, package=(2, 1))
    second = frame(0x0704, body[cut:], serial=42, package=(2, 2))
    for payload in (first + second, second + first):
        decoded = native(payload)
        assert len(decoded.positions) == 3 and not decoded.rejects
    assert refused(first)[0] == RejectReason.INCOMPLETE


def test_long_or_unknown_subpackaged_messages_are_refused_with_why() -> None:
    assert refused(frame(0x0801, b"\x00" * 10, package=(2, 1)))[0] == RejectReason.UNKNOWN_MESSAGE
    reason, detail = refused(frame(0x0704, b"\x00" * 10, package=(65, 1)))
    assert reason == RejectReason.UNSUPPORTED and "65 packages" in detail


def test_a_location_query_response_is_a_position() -> None:
    (p,) = native(frame(0x0201, b"\x00\x07" + location())).positions
    assert p.lat == 31.230416


def test_the_decoders_encoder_agrees_with_the_standard_bytes() -> None:
    report = LocationReport(0, 3, 31_230_416, 121_473_701, 12, 456, 270, "261203120000", 7, 20, 8)
    assert encode_location(report) == location(
        items=item(0x01, (7).to_bytes(4, "big")) + item(0x30, b"\x14") + item(0x31, b"\x08")
    )
    assert parse_location(encode_location(report)) == report
    assert bcd("261203120000", 6) == bytes.fromhex("261203120000")
    assert terminal_time("261203120000") == datetime(2026, 12, 3, 4, tzinfo=UTC)


EMQX_TOPIC = f"jt808/{PHONE_2013}/{PHONE_2013}/up"


def emqx(msg_id: int, body: dict[str, object], phone: str = PHONE_2013) -> bytes:
    return orjson.dumps({"header": {"msg_id": msg_id, "encrypt": 0, "phone": phone, "msg_sn": 3}, "body": body})


EMQX_LOCATION: dict[str, object] = {
    "alarm": 256,
    "status": 3,
    "latitude": 31_230_416,
    "longitude": 121_473_701,
    "altitude": 12,
    "speed": 456,
    "direction": 270,
    "time": "261203120000",
    "extra": {"mileage": 123456, "rssi": 23, "gnss_sat_num": 9},
}


def test_emqx_json_gives_the_same_fix_as_the_native_frame() -> None:
    items = item(0x01, (123456).to_bytes(4, "big")) + item(0x30, b"\x17") + item(0x31, b"\x09")
    (native_fix,) = native(frame(0x0200, location(alarm=256, items=items))).positions
    (json_fix,) = decode(EMQX_TOPIC, emqx(512, EMQX_LOCATION), NOW, LIMITS).positions
    assert json_fix == native_fix
    assert json_fix.extra == native_fix.extra and json_fix.alarms == ("power_cut",)


def test_emqx_bulk_and_query_response() -> None:
    second = {**EMQX_LOCATION, "time": "261203115900", "status": 1}
    decoded = decode(EMQX_TOPIC, emqx(1796, {"type": 1, "length": 2, "location": [EMQX_LOCATION, second]}), NOW, LIMITS)
    assert len(decoded.positions) == 1 and decoded.rejects[0].reason == RejectReason.NO_FIX
    assert decode(EMQX_TOPIC, emqx(513, {"seq": 4, "params": EMQX_LOCATION}), NOW, LIMITS).positions


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (emqx(512, EMQX_LOCATION, phone="013900000000"), RejectReason.DEVICE_MISMATCH),
        (emqx(2304, {}), RejectReason.UNKNOWN_MESSAGE),
        (emqx(512, {**EMQX_LOCATION, "latitude": "31.2"}), RejectReason.BAD_TYPE),
        (emqx(512, {k: v for k, v in EMQX_LOCATION.items() if k != "time"}), RejectReason.MISSING_FIELD),
        (b'{"header": 1}', RejectReason.BAD_SHAPE),
    ],
)
def test_bad_emqx_messages_are_refused(payload: bytes, reason: RejectReason) -> None:
    decoded = decode(EMQX_TOPIC, payload, NOW, LIMITS)
    assert not decoded.positions and decoded.rejects[0].reason == reason


def test_emqx_phone_given_as_a_number_still_matches_the_topic() -> None:
    body = orjson.loads(emqx(512, EMQX_LOCATION))
    body["header"]["phone"] = int(PHONE_2013)
    assert decode(EMQX_TOPIC, orjson.dumps(body), NOW, LIMITS).positions


def test_emqx_heartbeats_store_nothing() -> None:
    decoded = decode(EMQX_TOPIC, emqx(2, {}), NOW, LIMITS)
    assert decoded.positions == [] and decoded.rejects == []


def test_owntracks_unknown_speed_course_and_altitude() -> None:
    body = {"_type": "location", "lat": 30.27, "lon": 120.15, "tst": 1_795_950_000, "vel": -1, "cog": -1, "alt": 8}
    (p,) = decode("owntracks/alice/phone", orjson.dumps(body), NOW, LIMITS).positions
    assert (p.speed_kmh, p.heading, p.extra) == (None, None, {"altitude_m": 8})
    encrypted = decode("owntracks/alice/phone", b'{"_type": "encrypted", "data": "xyz"}', NOW, LIMITS)
    assert encrypted.rejects[0].reason == RejectReason.UNSUPPORTED
