"""Commands to trackers over MQTT: trackers/{device_id}/command, QoS 1, with aiomqtt.

A JT/T 808 terminal (its id is its phone number) takes the same command as a platform message:
the native gateway relays trackers/{phone}/command to its open session as 0x8201 / 0x8202, and
for terminals behind EMQX the command also goes out on EMQX's downlink topic, in its JSON.
"""

import asyncio
import json
from typing import Any

import aiomqtt

from ingest.jt808 import emqx
from ingest.jt808.platform import command_for
from ingest.link import BrokerAddress, LinkError
from ingest.topics import command_topic


class DownlinkError(Exception):
    """The command could not be handed to the broker."""


async def publish(mqtt_url: str, device_id: str, payload: dict[str, Any], *, timeout_s: float = 5.0) -> str:
    """Publish at QoS 1 and wait for the broker's PUBACK; returns the topic."""
    address = BrokerAddress.parse(mqtt_url)
    topic = command_topic(device_id)
    try:
        async with aiomqtt.Client(
            address.host, address.port, username=address.username, password=address.password, timeout=timeout_s
        ) as client:
            await client.publish(topic, json.dumps(payload).encode(), qos=1, timeout=timeout_s)
            terminal = command_for(payload) if emqx.is_phone(device_id) else None
            if terminal is not None:
                body = json.dumps(emqx.command_json(terminal)).encode()
                await client.publish(emqx.down_topic(device_id), body, qos=1, timeout=timeout_s)
    except (aiomqtt.MqttError, OSError, TimeoutError) as exc:
        raise DownlinkError(f"publishing to {topic}: {exc}") from exc
    return topic


async def reachable(mqtt_url: str, *, timeout_s: float = 2.0) -> bool:
    """Whether the broker accepts a TCP connection now."""
    try:
        address = BrokerAddress.parse(mqtt_url)
        _, writer = await asyncio.wait_for(asyncio.open_connection(address.host, address.port), timeout=timeout_s)
    except (OSError, TimeoutError, LinkError):
        return False
    writer.close()
    await writer.wait_closed()
    return True
