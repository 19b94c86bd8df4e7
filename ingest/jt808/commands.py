"""Commands from the API to natively connected terminals: trackers/+/command over MQTT, sent on
as 0x8201 (position query) or 0x8202 (temporary tracking) to the terminal's open session."""

import asyncio
import logging
from collections.abc import Callable

import aiomqtt
import orjson

from ingest.jt808.gateway import Gateway
from ingest.jt808.platform import command_for
from ingest.link import BrokerAddress

log = logging.getLogger(__name__)

COMMAND_SUBSCRIPTION = "trackers/+/command"


async def relay(mqtt_url: str, gateway: Gateway, *, subscribed: Callable[[], None] | None = None) -> None:
    """Forward commands until cancelled, reconnecting with backoff when the broker goes away."""
    address = BrokerAddress.parse(mqtt_url)
    delay = 1.0
    while True:
        try:
            async with aiomqtt.Client(
                address.host, address.port, username=address.username, password=address.password
            ) as client:
                await client.subscribe(COMMAND_SUBSCRIPTION, qos=1)
                if subscribed is not None:
                    subscribed()
                delay = 1.0
                async for message in client.messages:
                    _forward(gateway, str(message.topic), message.payload)
        except aiomqtt.MqttError as exc:
            log.warning("command relay: broker unavailable (%s); retrying in %.0fs", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)


def _forward(gateway: Gateway, topic: str, payload: object) -> None:
    parts = topic.split("/")
    if len(parts) != 3 or not isinstance(payload, (bytes, bytearray)):
        return
    phone = parts[1]
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError:
        log.warning("command for %s: not JSON", phone)
        return
    command = command_for(body) if isinstance(body, dict) else None
    if command is None:
        log.warning("command for %s: %r has no JT/T 808 form", phone, body)
        return
    if gateway.command(phone, command):
        log.info("command %s (ref %s) sent to %s as 0x%04x", body.get("cmd"), body.get("ref"), phone, command.msg_id)
