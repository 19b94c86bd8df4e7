"""Locate-now and chase mode reach JT/T 808 terminals as 0x8201 and 0x8202, audited as today:
natively through the gateway's session, and on EMQX's downlink topic for terminals behind it."""

import json
import struct
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from fastapi.testclient import TestClient

from ingest.jt808.platform import CHASE_VALIDITY_S
from lienwatch.api_wiring import app_for
from tests.integration.jt808_harness import RunningGateway, SocketTerminal, bcd_time
from tests.integration.test_api_commands import Listener
from tests.support.api_harness import add_user, auth
from tests.support.ingest_harness import count, register, wait_for
from tests.unit.jt808_bytes import frame, location

pytestmark = [pytest.mark.db, pytest.mark.mqtt]

PHONE = "013912347777"


@pytest.fixture
def gateway(ingest_db: str, mqtt_url: str) -> Iterator[RunningGateway]:
    register(ingest_db, PHONE)
    with RunningGateway(ingest_db, mqtt_url) as running:
        yield running


def test_locate_and_chase_reach_the_terminal_and_are_audited(
    gateway: RunningGateway, ingest_db: str, mqtt_url: str
) -> None:
    terminal = SocketTerminal(gateway.port, PHONE)
    terminal.login()
    name, token = add_user(ingest_db, "supervisor")
    emqx = Listener(mqtt_url, f"jt808/{PHONE}/{PHONE}/dn")
    try:
        with TestClient(app_for(database_url=ingest_db, mqtt_url=mqtt_url, webhook_interval_s=None)) as client:
            for command in ("locate", "chase_on", "chase_off"):
                response = client.post(
                    f"/api/v1/devices/{PHONE}/commands",
                    json={"command": command, "purpose": "M2 recovery"},
                    headers=auth(token),
                )
                assert response.status_code == 202, response.text
        query = terminal.answer(0x8201)
        assert query.body == b"" and query.header.phone == PHONE
        assert terminal.answer(0x8202).body == struct.pack(">HI", 10, CHASE_VALIDITY_S)
        assert terminal.answer(0x8202).body == struct.pack(">HI", 0, 0)
        assert wait_for(lambda: len(emqx.messages) == 3, timeout=5)
        sent = [json.loads(payload) for _, _, payload in emqx.messages]
        assert sent[0] == {"header": {"msg_id": 0x8201}, "body": {}}
        assert sent[1] == {"header": {"msg_id": 0x8202}, "body": {"period": 10, "expiry": CHASE_VALIDITY_S}}
    finally:
        emqx.close()
    # The terminal answers the query with 0x0201: a position like any other.
    body = struct.pack(">H", query.header.serial) + location(time=bcd_time(datetime.now(UTC)))
    terminal.send(frame(0x0201, body, serial=terminal.next_serial(), phone=PHONE))
    terminal.answer(0x8001)
    assert count(ingest_db, "SELECT count(*) FROM positions WHERE device_id = %s", PHONE) == 1
    with psycopg.connect(ingest_db) as conn:
        audited = conn.execute("SELECT action FROM audit_log WHERE actor = %s ORDER BY 1", (name,)).fetchall()
    assert audited == [("command_chase_off",), ("command_chase_on",), ("command_locate",)]
    terminal.close()
