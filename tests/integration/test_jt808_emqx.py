"""Terminals behind EMQX's JT/T 808 gateway and OwnTracks phones: their JSON on the broker goes
through the ingestor like any tracker's, acknowledged after commit, refusals quarantined."""

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from domain.vocabulary import DeviceKind
from tests.integration.jt808_harness import bcd_time
from tests.support.ingest_harness import RunningIngest, count, publish, register, wait_for

pytestmark = [pytest.mark.db, pytest.mark.mqtt]


def location(moment: datetime, **extra: object) -> dict[str, object]:
    return {
        "alarm": 0,
        "status": 3,
        "latitude": 22_543_096,
        "longitude": 114_057_865,
        "altitude": 30,
        "speed": 400,
        "direction": 90,
        "time": bcd_time(moment),
        "extra": {"mileage": 1000, "rssi": 20, "gnss_sat_num": 11},
        **extra,
    }


def up(phone: str, msg_id: int, body: dict[str, object]) -> tuple[str, bytes]:
    header = {"msg_id": msg_id, "encrypt": 0, "len": 0, "phone": phone, "msg_sn": 1}
    return f"jt808/{phone}/{phone}/up", orjson.dumps({"header": header, "body": body})


def test_emqx_reports_and_owntracks_locations_are_stored(ingest_db: str, mqtt_url: str) -> None:
    suffix = datetime.now(UTC).strftime("%H%M%S")
    phone, stranger = f"013800{suffix}", f"013700{suffix}"
    user, phone_device = f"lw{suffix}", "phone"
    register(ingest_db, phone)
    register(ingest_db, f"{user}-{phone_device}", kind=DeviceKind.WIRELESS)
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    messages = [
        up(phone, 512, location(now, alarm=1 << 5)),  # antenna cut: tamper
        up(phone, 1796, {"type": 1, "length": 2, "location": [location(now - timedelta(minutes=m)) for m in (2, 1)]}),
        up(phone, 2, {}),  # heartbeat: nothing to store, nothing refused
        up(phone, 512, location(now, status=1)),  # not positioned
        up(stranger, 512, location(now)),  # not registered
        (
            f"owntracks/{user}/{phone_device}",
            orjson.dumps(
                {"_type": "location", "lat": 22.54, "lon": 114.05, "tst": int(now.timestamp()), "acc": 12, "batt": 80}
            ),
        ),
    ]
    with RunningIngest(ingest_db, mqtt_url, detectors=False):
        publish(mqtt_url, messages)
        assert wait_for(lambda: count(ingest_db, "SELECT count(*) FROM quarantine") == 2)
        assert wait_for(lambda: count(ingest_db, "SELECT count(*) FROM positions") == 4)
    assert count(ingest_db, "SELECT count(*) FROM positions WHERE device_id = %s", phone) == 3
    tampered = count(ingest_db, "SELECT count(*) FROM positions WHERE device_id = %s AND 'tamper' = ANY(alarms)", phone)
    assert tampered == 1
    assert count(ingest_db, "SELECT count(*) FROM positions WHERE device_id = %s", f"{user}-{phone_device}") == 1
    reasons = count(
        ingest_db,
        "SELECT count(*) FROM quarantine WHERE (reason, device_id) IN (('no_fix', %s), ('unknown_device', %s))",
        phone,
        stranger,
    )
    assert reasons == 2
