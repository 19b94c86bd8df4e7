"""Helpers for the hostile-input tests: a Mosquitto with the project's ACL, MQTT clients that log in."""

import getpass
import shutil
import subprocess
import threading
import uuid
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.reasoncodes import ReasonCode

from benchmarks.local_mosquitto import CONF, PrivateMosquitto
from ingest.passwords import new_password

DEPLOY = CONF.parent  # deploy/mosquitto: the acl as docker-compose mounts it
# The service users' passwords, made for this test run as deploy/mosquitto/provision.sh makes
# them from .env: none is in the repository.
SERVICE_PASSWORDS = {user: new_password() for user in ("lienwatch-ingest", "lienwatch-api", "lienwatch-simulator")}


class AclMosquitto(PrivateMosquitto):
    """deploy/mosquitto as shipped (ACL, service users, no anonymous) plus tracker users."""

    def __init__(self, workdir: Path, trackers: dict[str, str]) -> None:
        super().__init__(workdir)
        self.trackers = trackers

    def config(self) -> str:
        kept = [line for line in super().config().splitlines() if line.split()[0] not in ("allow_anonymous", "user")]
        passwd = self.workdir / "passwd"
        passwd.touch(mode=0o600)
        binary = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
        for user, password in (SERVICE_PASSWORDS | self.trackers).items():
            subprocess.run([binary, "-b", str(passwd), user, password], check=True, capture_output=True)
        kept += ["allow_anonymous false", f"password_file {passwd}", f"acl_file {DEPLOY / 'acl'}"]
        # Started as root, Mosquitto drops to the `mosquitto` user before reading the password
        # file, which then cannot see into pytest's private tmp_path: stay the user we are.
        kept.append(f"user {getpass.getuser()}")
        return "\n".join(kept) + "\n"


def _client(port: int, user: str, password: str, protocol: MQTTProtocolVersion) -> paho.Client:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"{user}-{uuid.uuid4().hex[:6]}", protocol=protocol)
    client.username_pw_set(user, password)
    connected = threading.Event()
    refused: list[ReasonCode] = []

    def on_connect(_c: paho.Client, _u: object, _f: object, reason: ReasonCode, _p: object) -> None:
        if reason.is_failure:
            refused.append(reason)
        connected.set()

    client.on_connect = on_connect
    client.connect("127.0.0.1", port)
    client.loop_start()
    if not connected.wait(10) or refused:
        client.loop_stop()
        raise RuntimeError(f"{user} could not log in: {refused or 'no CONNACK'}")
    return client


class Recorder:
    """A QoS 1 subscriber logged in as `user` that records every (topic, payload) it receives."""

    def __init__(
        self, port: int, user: str, password: str, topic: str, protocol: MQTTProtocolVersion = paho.MQTTv311
    ) -> None:
        self.received: list[tuple[str, bytes]] = []
        self._changed = threading.Condition()
        self._client = _client(port, user, password, protocol)
        self._client.on_message = self._on_message
        subscribed = threading.Event()
        self._client.on_subscribe = lambda *_args: subscribed.set()
        self._client.subscribe(topic, qos=1)
        if not subscribed.wait(10):
            raise RuntimeError(f"{user} got no SUBACK for {topic}")

    def _on_message(self, _c: paho.Client, _u: object, message: paho.MQTTMessage) -> None:
        with self._changed:
            self.received.append((message.topic, bytes(message.payload)))
            self._changed.notify_all()

    def wait_for(self, payload: bytes, timeout: float = 10.0) -> bool:
        """Block until a message with this payload has arrived."""
        with self._changed:
            return self._changed.wait_for(lambda: any(p == payload for _, p in self.received), timeout)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


class Publisher:
    """A QoS 1 publisher logged in as `user`; returns the broker's PUBACK reason code (MQTT 5)."""

    def __init__(self, port: int, user: str, password: str, protocol: MQTTProtocolVersion = paho.MQTTv311) -> None:
        self._acks: dict[int, int] = {}
        self._client = _client(port, user, password, protocol)
        self._client.on_publish = self._on_publish

    def _on_publish(self, _c: paho.Client, _u: object, mid: int, reason: ReasonCode, _p: object) -> None:
        self._acks[mid] = reason.value

    def publish(self, topic: str, payload: bytes) -> int:
        """Publish at QoS 1, wait for the PUBACK, return its reason code (always 0 on MQTT 3.1.1)."""
        info = self._client.publish(topic, payload, qos=1)
        info.wait_for_publish(10)
        if not info.is_published():
            raise RuntimeError(f"no PUBACK for {topic}")
        return self._acks.get(info.mid, 0)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
