"""Helpers for ingest integration tests: a running in-process ingestor and a QoS 1 publisher."""

import threading
import time
import uuid
from collections.abc import Iterable
from decimal import Decimal

import paho.mqtt.client as paho
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from domain.assets import Device, Loan, Vehicle
from domain.ids import DeviceId, LoanId, Vin
from domain.vocabulary import DeviceKind
from ingest import runner
from lienwatch import wiring
from lienwatch.settings import Settings
from storage.devices import register_devices
from storage.loans import upsert_loans
from storage.vehicles import upsert_vehicles


def vin_of(device_id: str) -> Vin:
    return Vin(f"VIN{device_id.replace('-', '')}")


def register(db_url: str, *device_ids: str, kind: DeviceKind = DeviceKind.WIRED, days_past_due: int = 45) -> None:
    """Register devices, each on its own vehicle securing a loan `L-{device}` this many days past due."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        upsert_vehicles(conn, [Vehicle(vin_of(d)) for d in device_ids])
        register_devices(conn, [Device(DeviceId(d), kind, vin_of(d)) for d in device_ids])
        upsert_loans(
            conn,
            [
                Loan(LoanId(f"L-{d}"), vin_of(d), days_past_due=days_past_due, outstanding_balance=Decimal(80000))
                for d in device_ids
            ],
        )


class RunningIngest:
    """`lienwatch ingest` run in a thread of the test process."""

    def __init__(self, db_url: str, mqtt_url: str, **overrides: object) -> None:
        self.settings = Settings(
            database_url=db_url,
            mqtt_url=mqtt_url,
            mqtt_client_id=f"lw-test-{uuid.uuid4().hex[:8]}",
            metrics_port=0,
            **overrides,  # type: ignore[arg-type]
        )
        self.stop_event = threading.Event()
        self.process = wiring.ingest_process(self.settings, database_url=db_url, mqtt_url=mqtt_url)
        self.thread = threading.Thread(target=runner.run, args=(self.process, self.stop_event), daemon=True)

    def __enter__(self) -> "RunningIngest":
        self.thread.start()
        if not self.process.link.connected.wait(10):
            raise RuntimeError("ingest did not connect")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        self.thread.join(30)


def publish(mqtt_url: str, messages: Iterable[tuple[str, bytes]], *, protocol: int = paho.MQTTv311) -> int:
    """Publish (topic, payload) pairs at QoS 1 and wait until the broker has acked them all."""
    port = int(mqtt_url.rsplit(":", 1)[1])
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}", protocol=protocol)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
    for info in infos:
        info.wait_for_publish(30)
    client.disconnect()
    client.loop_stop()
    return len(infos)


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1) -> bool:  # type: ignore[no-untyped-def]
    """Poll until predicate() is true or the timeout passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def count(db_url: str, sql: str, *params: object) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(sql, params).fetchone()  # type: ignore[arg-type]
        return int(row[0]) if row else 0
