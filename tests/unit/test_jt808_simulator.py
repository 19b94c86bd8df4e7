"""The simulator's terminals send what the contract fix said: the gateway reads back the same fix."""

from datetime import UTC, datetime

import orjson

from ingest.decode import Limits, decode
from simulators.jt808 import message_body, phone_of
from wire.jt808.framing import wrap
from wire.jt808.header import Header, encode_packet

NOW = datetime(2026, 12, 3, 4, 5, tzinfo=UTC)


def test_phone_numbers_are_stable_twelve_digit_ids() -> None:
    phones = {phone_of(f"sim-{i:05d}") for i in range(20_000)}
    assert len(phones) == 20_000
    assert all(len(p) == 12 and p.isdigit() for p in phones)
    assert phone_of("sim-00001") == phone_of("sim-00001")


def test_a_contract_fix_survives_the_trip_through_a_terminal() -> None:
    fix = {
        "ts": "2026-12-03T04:00:00Z",
        "lat": -33.868821,
        "lon": 151.209296,
        "accuracy_m": 8.0,
        "speed_kmh": 63.4,
        "heading": 181.6,
        "ignition": True,
        "alarms": ["power_cut", "low_battery"],
    }
    encoded = message_body(orjson.dumps(fix))
    assert encoded is not None
    msg_id, body = encoded
    phone = phone_of("sim-1")
    raw = wrap(encode_packet(Header(msg_id, phone, 1), body))
    (p,) = decode(f"jt808-tcp/{phone}", raw, NOW, Limits()).positions
    assert (p.lat, p.lon, p.speed_kmh, p.heading, p.ignition) == (-33.868821, 151.209296, 63.4, 182.0, True)
    assert set(p.alarms) == {"power_cut", "low_battery"} and not p.coarse
    assert p.ts == datetime(2026, 12, 3, 4, tzinfo=UTC)


def test_buffered_arrays_become_bulk_uploads_and_coarse_fixes_stay_coarse() -> None:
    fixes = [{"ts": 1796270000 + i, "lat": 31.2, "lon": 121.4, "source": "lbs"} for i in range(3)]
    encoded = message_body(orjson.dumps(fixes))
    assert encoded is not None and encoded[0] == 0x0704
    raw = wrap(encode_packet(Header(encoded[0], "013900000001", 1), encoded[1]))
    decoded = decode("jt808-tcp/013900000001", raw, NOW, Limits())
    assert len(decoded.positions) == 3 and all(p.coarse for p in decoded.positions)
    assert message_body(b'{"lat": 1') is None and message_body(b"[]") is None
