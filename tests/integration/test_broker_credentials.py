"""Per-tracker broker credentials: `lienwatch devices register` writes a mosquitto_passwd-compatible
entry, the real broker lets the tracker in with it, and the ACL keeps it to its own topic."""

import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as paho
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from typer.testing import CliRunner

from benchmarks.local_mosquitto import PrivateMosquitto
from ingest.link import BrokerAddress
from ingest.passwords import PasswordFile, hash_password, new_password, verify
from lienwatch.commands.ingest import devices_app
from tests.support.api_harness import own_database, unique

pytestmark = [pytest.mark.db, pytest.mark.mqtt]

ACL = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto" / "acl"


@pytest.fixture(scope="module")
def db(pg_available: None) -> Iterator[str]:
    with own_database() as url:
        yield url


def test_hashes_are_mosquitto_passwd_compatible(tmp_path: Path) -> None:
    theirs = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(theirs), "dev-1", "s3cret-pw"], check=True)
    hashed = PasswordFile(theirs).entries()["dev-1"]
    assert hashed.startswith("$7$101$")
    assert verify("s3cret-pw", hashed) and not verify("wrong", hashed)
    ours = hash_password("s3cret-pw")
    assert ours.startswith("$7$101$") and len(ours.split("$")[3]) == 16 and verify("s3cret-pw", ours)


class Client:
    """A paho client that records whether it was let in and what it received."""

    def __init__(self, port: int, user: str, password: str) -> None:
        self.received: list[str] = []
        self.result: int | None = None
        self.ready = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"{user}-{uuid.uuid4().hex[:6]}")
        self.client.username_pw_set(user, password)
        self.client.on_connect = self._connected
        self.client.on_message = lambda c, u, m: self.received.append(m.topic)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.ready.wait(5)

    def _connected(self, client: object, userdata: object, flags: object, reason: object, props: object) -> None:
        self.result = int(getattr(reason, "value", reason))  # type: ignore[call-overload]
        self.ready.set()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_a_registered_tracker_publishes_only_as_itself(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    passwd = tmp_path / "passwd"
    ingest_password = new_password()
    PasswordFile(passwd).set("lienwatch-ingest", ingest_password)
    vin = f"LVIN{uuid.uuid4().hex[:12].upper()}"
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("INSERT INTO vehicles (vin) VALUES (%s)", (vin,))
    monkeypatch.setenv("LIENWATCH_DATABASE_URL", db)
    monkeypatch.setenv("LIENWATCH_MQTT_PASSWORD_FILE", str(passwd))
    runner = CliRunner()
    passwords = {}
    for device in ("trk-a", "trk-b"):
        result = runner.invoke(devices_app, ["register", device, "--kind", "wired", "--vin", vin])
        assert result.exit_code == 0, result.output
        passwords[device] = result.output.strip().splitlines()[-1]
        assert passwords[device] not in passwd.read_text()  # only the hash is kept
    again = runner.invoke(devices_app, ["register", "trk-a", "--kind", "wired", "--vin", vin])
    assert again.exit_code == 0 and "keeps its broker password" in again.output
    assert set(PasswordFile(passwd).entries()) == {"lienwatch-ingest", "trk-a", "trk-b"}
    assert oct(passwd.stat().st_mode & 0o777) == "0o600"

    broker = PrivateMosquitto(tmp_path / "broker", password_file=passwd, acl_file=ACL)
    broker.start()
    try:
        ingest = Client(broker.port, "lienwatch-ingest", ingest_password)
        ingest.client.subscribe("trackers/+/position", qos=1)
        time.sleep(0.3)
        a = Client(broker.port, "trk-a", passwords["trk-a"])
        assert a.result == 0
        a.client.publish("trackers/trk-a/position", b"{}", qos=1).wait_for_publish(5)
        a.client.publish("trackers/trk-b/position", b"{}", qos=1).wait_for_publish(5)  # spoofing trk-b
        time.sleep(0.5)
        assert ingest.received == ["trackers/trk-a/position"]
        wrong = Client(broker.port, "trk-a", passwords["trk-b"])
        assert wrong.result not in (None, 0)
        for c in (ingest, a, wrong):
            c.close()
    finally:
        broker.stop()


def test_register_refuses_an_unknown_vin_as_the_api_does(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIENWATCH_DATABASE_URL", db)
    device = unique("trk")
    result = CliRunner().invoke(devices_app, ["register", device, "--kind", "wired", "--vin", "NOSUCHVIN0000001"])
    assert result.exit_code == 2
    assert result.output.strip() == "error: vin: vehicle NOSUCHVIN0000001 does not exist"


def test_the_broker_address_is_shown_without_its_password() -> None:
    shown = BrokerAddress.parse("mqtt://lienwatch-ingest:hunter2-secret@broker:1883").shown()
    assert shown == "mqtt://lienwatch-ingest@broker:1883"
