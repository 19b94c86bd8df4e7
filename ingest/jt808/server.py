"""The gateway's event loop: the TCP server, its device directory and the command relay, fed into
whichever batch writer owns the Inbox (the gateway's own, or `lienwatch ingest`'s)."""

import asyncio
import contextlib
import logging
import secrets
import threading
from dataclasses import dataclass, field

from ingest.inbox import Inbox
from ingest.jt808.commands import relay
from ingest.jt808.directory import DeviceDirectory
from ingest.jt808.gateway import Gateway
from ingest.link import Inbound

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """How the gateway treats terminals: the auth-code key, whether auth is required, the idle cut-off."""

    # None: a random key, so auth codes last as long as this process. Kept out of the repr.
    secret: bytes | None = field(default=None, repr=False)
    require_auth: bool = True
    idle_timeout_s: float = 600.0


@dataclass
class GatewayServer:
    gateway: Gateway
    directory: DeviceDirectory
    port: int = 0  # the bound port, once listening
    ready: threading.Event = field(default_factory=threading.Event)
    commands_ready: threading.Event = field(default_factory=threading.Event)  # relay subscribed
    failed: BaseException | None = None


def make(config: GatewayConfig, inbox: Inbox[Inbound], database_url: str) -> GatewayServer:
    """A gateway putting what terminals send into `inbox` (nothing is started)."""
    secret = config.secret
    if secret is None:
        log.warning("LIENWATCH_JT808_AUTH_SECRET unset: auth codes last only as long as this process")
        secret = secrets.token_bytes(32)
    directory = DeviceDirectory(database_url)
    gateway = Gateway(
        inbox=inbox,
        is_registered=directory.is_registered,
        secret=secret,
        require_auth=config.require_auth,
        idle_timeout_s=config.idle_timeout_s,
    )
    return GatewayServer(gateway, directory)


def serve(server: GatewayServer, stop: threading.Event, *, host: str, port: int, mqtt_url: str | None) -> None:
    """Run the event loop until `stop` is set; connections are closed (what they leave is stored)."""
    try:
        asyncio.run(_serve(server, stop, host, port, mqtt_url))
    except OSError as exc:
        server.failed = exc
        log.error("JT/T 808 gateway cannot listen on %s:%d: %s", host, port, exc)
        raise
    finally:
        server.directory.close()


async def _serve(server: GatewayServer, stop: threading.Event, host: str, port: int, mqtt_url: str | None) -> None:
    listening = await server.gateway.start(host, port)
    server.port = listening.sockets[0].getsockname()[1]
    relay_task = None
    if mqtt_url:
        relay_task = asyncio.create_task(relay(mqtt_url, server.gateway, subscribed=server.commands_ready.set))
    log.info("JT/T 808 gateway listening on %s:%d", host, server.port)
    server.ready.set()
    try:
        await asyncio.to_thread(stop.wait)
    finally:
        listening.close()
        await server.gateway.close_all()
        await listening.wait_closed()
        if relay_task is not None:
            relay_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relay_task
