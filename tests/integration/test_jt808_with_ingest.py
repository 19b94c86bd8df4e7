"""`lienwatch ingest --jt808-port`: terminals and MQTT trackers into one writer and one detector
state, so a car's wired JT/T 808 unit and its wireless MQTT unit are compared (separation), and
each message is acknowledged on its own side after commit."""

import struct
import threading
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import orjson
import psycopg
import pytest

from domain.assets import Device, Loan, Vehicle
from domain.ids import DeviceId, LoanId, Vin
from domain.vocabulary import DeviceKind
from ingest import runner
from lienwatch import wiring
from lienwatch.settings import Settings
from storage.devices import register_devices
from storage.loans import upsert_loans
from storage.vehicles import upsert_vehicles
from tests.integration.jt808_harness import SECRET, SocketTerminal, bcd_time
from tests.support.ingest_harness import count, publish, wait_for
from tests.unit.jt808_bytes import frame, location

pytestmark = [pytest.mark.db, pytest.mark.mqtt]


def test_a_wired_terminal_and_a_wireless_mqtt_unit_far_apart_raise_separation(ingest_db: str, mqtt_url: str) -> None:
    tag = uuid.uuid4().hex[:6]
    phone, wireless, vin = "0139" + str(int(tag, 16) % 10**8).zfill(8), f"wl-{tag}", Vin(f"VSEP{tag}")
    with psycopg.connect(ingest_db, autocommit=True) as conn:
        upsert_vehicles(conn, [Vehicle(vin)])
        register_devices(
            conn,
            [
                Device(DeviceId(phone), DeviceKind.WIRED, vin),
                Device(DeviceId(wireless), DeviceKind.WIRELESS, vin, scheduled_interval_s=3600),
            ],
        )
        upsert_loans(conn, [Loan(LoanId(f"L-{tag}"), vin, days_past_due=40, outstanding_balance=Decimal(50000))])
    settings = Settings(
        database_url=ingest_db,
        mqtt_url=mqtt_url,
        mqtt_client_id=f"lw-test-{tag}",
        metrics_port=0,
        flush_ms=50,
        jt808_auth_secret=SECRET,  # type: ignore[arg-type]
    )
    process = wiring.ingest_process(settings, database_url=ingest_db, mqtt_url=mqtt_url, jt808=True)
    assert process.jt808 is not None
    stop = threading.Event()
    options = {"jt808_host": "127.0.0.1", "jt808_port": 0, "mqtt_url": mqtt_url}
    thread = threading.Thread(target=runner.run, args=(process, stop), kwargs=options, daemon=True)
    thread.start()
    try:
        assert process.link.connected.wait(10) and process.jt808.ready.wait(10)
        terminal = SocketTerminal(process.jt808.port, phone)
        terminal.login()
        moment = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
        serial = terminal.next_serial()
        # The wired unit in central Shanghai (31.2304, 121.4737) ...
        terminal.send(
            frame(0x0200, location(lat=31_230_400, lon=121_473_700, time=bcd_time(moment)), serial=serial, phone=phone)
        )
        assert terminal.answer(0x8001).body == struct.pack(">HHB", serial, 0x0200, 0)
        # ... and, a minute later, its wireless partner 20 km west over MQTT.
        fix = {
            "ts": int((moment + timedelta(minutes=1)).timestamp()),
            "lat": 31.2304,
            "lon": 121.2637,
            "accuracy_m": 20,
        }
        publish(mqtt_url, [(f"trackers/{wireless}/position", orjson.dumps(fix))])
        assert wait_for(lambda: count(ingest_db, "SELECT count(*) FROM positions WHERE device_id = %s", wireless) == 1)
        found = wait_for(
            lambda: (
                count(ingest_db, "SELECT count(*) FROM alerts WHERE kind = 'device_separation' AND vin = %s", vin) == 1
            )
        )
        assert found
        terminal.close()
    finally:
        stop.set()
        thread.join(30)
