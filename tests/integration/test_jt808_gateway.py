"""A JT/T 808 terminal over a real socket into the gateway and real PostgreSQL: registration,
authentication, locations and alarms stored and answered after commit, alerts on the API,
refusals and broken frames quarantined without disturbing other terminals."""

import struct
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient

from lienwatch.api_wiring import app_for
from tests.integration.jt808_harness import RunningGateway, SocketTerminal, bcd_time
from tests.support.api_harness import add_user, auth
from tests.support.ingest_harness import count, register, wait_for
from tests.unit.jt808_bytes import bulk, frame, item, location

pytestmark = pytest.mark.db

PHONE = "013912340001"
OTHER = "013912340002"
STRANGER = "013999999999"


@pytest.fixture
def gateway(ingest_db: str) -> Iterator[RunningGateway]:
    register(ingest_db, PHONE, OTHER)
    with RunningGateway(ingest_db) as running:
        yield running


def test_a_terminal_registers_authenticates_and_its_reports_become_positions_and_alerts(
    gateway: RunningGateway, ingest_db: str, mqtt_url: str
) -> None:
    terminal = SocketTerminal(gateway.port, PHONE)
    terminal.login()
    now = datetime.now(UTC).replace(microsecond=0)
    fix_time = now - timedelta(minutes=2)
    power_cut = location(alarm=1 << 8, time=bcd_time(fix_time), items=item(0x31, b"\x0a"))
    serial = terminal.next_serial()
    terminal.send(frame(0x0200, power_cut, serial=serial, phone=PHONE))
    answer = terminal.answer(0x8001)
    assert answer.body == struct.pack(">HHB", serial, 0x0200, 0)
    # The answer follows the commit: the position is there the moment it arrives.
    assert count(ingest_db, "SELECT count(*) FROM positions WHERE device_id = %s", PHONE) == 1

    # Blind-area backfill of two earlier fixes, and one that lost its position.
    backfill = [location(time=bcd_time(fix_time - timedelta(minutes=m))) for m in (10, 9)]
    backfill.append(location(status=0b01, time=bcd_time(fix_time - timedelta(minutes=8))))
    serial = terminal.next_serial()
    terminal.send(frame(0x0704, bulk(backfill, kind=1), serial=serial, phone=PHONE))
    assert terminal.answer(0x8001).body == struct.pack(">HHB", serial, 0x0704, 0)
    assert count(ingest_db, "SELECT count(*) FROM positions WHERE device_id = %s", PHONE) == 3
    assert count(ingest_db, "SELECT count(*) FROM quarantine WHERE reason = 'no_fix' AND device_id = %s", PHONE) == 1

    # The same report again (the terminal missed our answer) is stored once and answered again.
    terminal.send(frame(0x0200, power_cut, serial=terminal.next_serial(), phone=PHONE))
    terminal.answer(0x8001)
    assert count(ingest_db, "SELECT count(*) FROM positions WHERE device_id = %s", PHONE) == 3

    stored = count(
        ingest_db,
        "SELECT count(*) FROM positions WHERE device_id = %s AND ts = %s AND ignition AND 'power_cut' = ANY(alarms)",
        PHONE,
        fix_time,
    )
    assert stored == 1
    _, token = add_user(ingest_db, "admin")
    with TestClient(app_for(database_url=ingest_db, mqtt_url=mqtt_url, webhook_interval_s=None)) as client:
        page = client.get("/api/v1/alerts", params={"loan_id": f"L-{PHONE}"}, headers=auth(token))
    assert page.status_code == 200, page.text
    assert "power_cut" in {a["kind"] for a in page.json()["items"]}
    terminal.close()


def test_an_unregistered_terminal_is_refused_and_quarantined(gateway: RunningGateway, ingest_db: str) -> None:
    stranger = SocketTerminal(gateway.port, STRANGER)
    answer = stranger.register()
    assert answer.body[2] == 4  # no such terminal in the database
    assert answer.body[3:] == b""  # and no auth code
    rows = count(
        ingest_db, "SELECT count(*) FROM quarantine WHERE reason = 'unknown_device' AND device_id = %s", STRANGER
    )
    assert rows == 1
    # Reports without authentication are refused (failure) and kept in the quarantine.
    serial = stranger.next_serial()
    stranger.send(frame(0x0200, location(time=bcd_time(datetime.now(UTC))), serial=serial, phone=STRANGER))
    assert stranger.answer(0x8001).body == struct.pack(">HHB", serial, 0x0200, 1)
    assert count(ingest_db, "SELECT count(*) FROM quarantine WHERE reason = 'unauthenticated'") == 1
    assert count(ingest_db, "SELECT count(*) FROM positions WHERE device_id = %s", STRANGER) == 0
    stranger.close()


def test_broken_frames_are_quarantined_and_never_close_other_sessions(gateway: RunningGateway, ingest_db: str) -> None:
    good, bad = SocketTerminal(gateway.port, PHONE), SocketTerminal(gateway.port, OTHER)
    good.login()
    bad.login()
    moment = datetime.now(UTC) - timedelta(minutes=1)
    raw = frame(0x0200, location(time=bcd_time(moment)), serial=bad.next_serial(), phone=OTHER)
    broken = raw[:-2] + bytes([raw[-2] ^ 0x55]) + raw[-1:]
    bad.send(b"noise" + broken + frame(0x0900, b"\x01", serial=bad.next_serial(), phone=OTHER))
    assert bad.answer(0x8001).body[4] == 3  # 0x0900 not supported
    assert wait_for(lambda: count(ingest_db, "SELECT count(*) FROM quarantine WHERE reason = 'bad_frame'") == 2)
    with psycopg.connect(ingest_db) as conn:
        payloads = {bytes(p) for (p,) in conn.execute("SELECT payload FROM quarantine").fetchall()}
    # Stray bytes between two frames are kept between the delimiters that enclosed them.
    assert broken in payloads and b"\x7enoise\x7e" in payloads
    # The broken terminal's session goes on, and so does everyone else's.
    bad.send(raw)
    assert bad.answer(0x8001).body[4] == 0
    serial = good.next_serial()
    good.send(frame(0x0200, location(time=bcd_time(moment)), serial=serial, phone=PHONE))
    assert good.answer(0x8001).body == struct.pack(">HHB", serial, 0x0200, 0)
    assert count(ingest_db, "SELECT count(*) FROM positions") == 2
    good.close()
    bad.close()


def test_subpackaged_bulk_upload_is_answered_package_by_package_after_commit(
    gateway: RunningGateway, ingest_db: str
) -> None:
    terminal = SocketTerminal(gateway.port, PHONE)
    terminal.login()
    start = datetime.now(UTC) - timedelta(hours=1)
    body = bulk([location(time=bcd_time(start + timedelta(minutes=m))) for m in range(30)], kind=1)
    size = 400
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    serials = [terminal.next_serial() for _ in parts]
    for index, (part, serial) in enumerate(zip(parts, serials, strict=True), start=1):
        terminal.send(frame(0x0704, part, serial=serial, phone=PHONE, package=(len(parts), index)))
    answered = sorted(struct.unpack(">H", terminal.answer(0x8001).body[:2])[0] for _ in parts)
    assert answered == serials
    assert count(ingest_db, "SELECT count(*) FROM positions WHERE device_id = %s", PHONE) == 30
    terminal.close()
