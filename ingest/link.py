"""The MQTT link of the ingestor: receive QoS 1 messages, acknowledge them only after commit.

Why paho-mqtt here and not aiomqtt: aiomqtt 2.x sends PUBACK as soon as paho hands it a
message, before any code of ours has seen it, so a crash between receive and commit would
lose what the broker believes delivered. paho-mqtt 2.x (which aiomqtt wraps) offers
`manual_ack=True` and `ack(mid, qos)`: we receive on paho's network thread, hand messages to
the bounded Inbox, and ack each mid once the batch holding it is committed. This module is
the only place that knows; the rest of the ingestor sees Inbound values and `ack()`.

Packet ids belong to one network connection. After a reconnect the broker redelivers every
unacknowledged message (persistent session) under new ids, so acks for messages received on
an earlier connection are skipped: the redelivered copies are acked instead, and the store's
(device, fix time) key makes the second write a no-op.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

log = logging.getLogger(__name__)

SESSION_EXPIRY_S = 7 * 24 * 3600  # the broker keeps our queue through a week-long outage


class LinkError(Exception):
    """The broker could not be reached or refused the session."""


@dataclass(frozen=True, slots=True)
class Inbound:
    topic: str
    payload: bytes
    received_at: float  # epoch seconds, when paho read it off the socket
    mid: int
    qos: int
    generation: int  # which connection delivered it


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> "BrokerAddress":
        """mqtt://[user:password@]host[:port]."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
            raise LinkError(f"mqtt url {url!r}: expected mqtt://host[:port]")
        return cls(parts.hostname, parts.port or 1883, parts.username, parts.password)

    def shown(self) -> str:
        """The address for logs and the console: the user name, never the password."""
        user = f"{self.username}@" if self.username else ""
        return f"mqtt://{user}{self.host}:{self.port}"


class MqttLink:
    """A persistent-session QoS 1 subscriber with manual acknowledgement."""

    def __init__(
        self,
        *,
        url: str,
        client_id: str,
        subscriptions: list[str],
        deliver: Callable[[Inbound], None],
        protocol: str = "5",
        receive_maximum: int = 20000,
        keepalive: int = 60,
    ) -> None:
        self._address = BrokerAddress.parse(url)
        self._subscriptions = subscriptions
        self._deliver = deliver
        self._v5 = protocol == "5"
        self._receive_maximum = receive_maximum
        self._keepalive = keepalive
        self._generation = 0
        self._lock = threading.Lock()
        self.connected = threading.Event()
        self.connect_count = 0
        self._answered = threading.Event()  # the first CONNACK, accepted or not
        self._refused: str | None = None
        if self._v5:
            client = paho.Client(
                CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5, manual_ack=True
            )
        else:
            client = paho.Client(
                CallbackAPIVersion.VERSION2,
                client_id=client_id,
                protocol=paho.MQTTv311,
                clean_session=False,
                manual_ack=True,
            )
        if self._address.username:
            client.username_pw_set(self._address.username, self._address.password)
        client.max_inflight_messages_set(receive_maximum)
        client.reconnect_delay_set(min_delay=1, max_delay=30)  # capped backoff
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self._client = client

    def start(self, timeout: float = 15.0) -> None:
        """Connect and start the network thread; waits until subscribed or raises LinkError."""
        properties = None
        if self._v5:
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = SESSION_EXPIRY_S
            # The in-flight window must hold a whole batch, since acks wait for its commit.
            properties.ReceiveMaximum = self._receive_maximum
        try:
            if self._v5:
                self._client.connect(
                    self._address.host,
                    self._address.port,
                    self._keepalive,
                    clean_start=False,
                    properties=properties,
                )
            else:
                self._client.connect(self._address.host, self._address.port, self._keepalive)
        except OSError as exc:
            raise LinkError(
                f"cannot reach the MQTT broker at {self._address.host}:{self._address.port}: {exc}"
            ) from exc
        self._client.loop_start()
        answered = self._answered.wait(timeout)
        if answered and self._refused is not None:
            # A wrong password is not an outage: paho would retry it forever, so say so now.
            self.stop()
            user = self._address.username or "(anonymous)"
            raise LinkError(
                f"the MQTT broker at {self._address.host}:{self._address.port} refused the login as {user}: "
                f"{self._refused} (check the user and password in LIENWATCH_MQTT_URL)"
            )
        if not answered or not self.connected.wait(timeout):
            self.stop()
            raise LinkError(f"no CONNACK/SUBACK from {self._address.host}:{self._address.port} within {timeout}s")

    def stop(self) -> None:
        """Disconnect (the session and its unacked messages stay on the broker)."""
        self._client.disconnect()
        self._client.loop_stop()
        # A refused login leaves paho mid-reconnect with its socket and wake-up socket pair open;
        # paho closes them only on its own exit paths, so close them here.
        reset = getattr(self._client, "_reset_sockets", None)
        if reset is not None:
            reset()

    def ack(self, messages: list[Inbound]) -> int:
        """Acknowledge committed messages of the current connection; returns how many were acked."""
        with self._lock:
            generation = self._generation
        acked = 0
        for message in messages:
            if message.qos > 0 and message.generation == generation:
                self._client.ack(message.mid, message.qos)
                acked += 1
        return acked

    # paho callbacks, run on its network thread

    def _on_connect(
        self, client: paho.Client, _userdata: object, _flags: object, reason: ReasonCode, _props: object
    ) -> None:
        if reason.is_failure:
            log.error("MQTT broker refused the connection: %s", reason)
            if not self._answered.is_set():
                self._refused = str(reason)
                self._answered.set()
            return
        self._answered.set()
        with self._lock:
            self._generation += 1
            self.connect_count += 1
        log.info("connected to MQTT broker (connection %d)", self.connect_count)
        client.subscribe([(topic, 1) for topic in self._subscriptions])
        self.connected.set()

    def _on_disconnect(
        self, _client: paho.Client, _userdata: object, _flags: object, reason: ReasonCode, _props: object
    ) -> None:
        self.connected.clear()
        log.warning("disconnected from MQTT broker: %s; paho reconnects with backoff", reason)

    def _on_message(self, _client: paho.Client, _userdata: object, message: paho.MQTTMessage) -> None:
        # Blocks when the Inbox is full: paho stops reading the socket, TCP pushes back, and
        # the broker keeps the rest queued for our session.
        self._deliver(
            Inbound(message.topic, bytes(message.payload), time.time(), message.mid, message.qos, self._generation)
        )
