"""Refused JT/T 808 messages wait in the quarantine like any other and replay once fixed: a
native frame and an EMQX message from a phone registered only afterwards."""

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from ingest.decode import Limits, decode
from ingest.replay import replay
from ingest.store import BatchStore, Message
from storage.database import connect
from tests.integration.jt808_harness import bcd_time
from tests.support.ingest_harness import count, register
from tests.unit.jt808_bytes import frame, location

pytestmark = pytest.mark.db

PHONE = "013955550001"


def test_native_and_emqx_messages_of_a_late_registered_phone_replay(ingest_db: str) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    raw = frame(0x0200, location(time=bcd_time(now - timedelta(minutes=3))), phone=PHONE)
    emqx = orjson.dumps(
        {
            "header": {"msg_id": 512, "phone": PHONE, "msg_sn": 4},
            "body": {
                "alarm": 0,
                "status": 3,
                "latitude": 31_230_000,
                "longitude": 121_470_000,
                "altitude": 0,
                "speed": 0,
                "direction": 0,
                "time": bcd_time(now - timedelta(minutes=2)),
            },
        }
    )
    topics = [(f"jt808-tcp/{PHONE}", raw), (f"jt808/{PHONE}/{PHONE}/up", emqx)]
    store = BatchStore(ingest_db)
    try:
        messages = [Message(t, p, now, decode(t, p, now, Limits())) for t, p in topics]
        stored = store.store(messages)
        assert stored.rejected == {"unknown_device": 2} and not stored.new
    finally:
        store.close()
    register(ingest_db, PHONE)
    # As `lienwatch quarantine replay` does: a store of its own, with no memory of the misses.
    fresh = BatchStore(ingest_db)
    try:
        with connect(ingest_db, autocommit=True) as conn:
            report = replay(conn, fresh, Limits(), reason="unknown_device")
    finally:
        fresh.close()
    assert (report.replayed, report.positions_stored) == (2, 2)
    assert count(ingest_db, "SELECT count(*) FROM positions WHERE device_id = %s", PHONE) == 2
