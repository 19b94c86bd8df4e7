"""The database and broker the process talks to: configured, or embedded when unset."""

import contextlib
from collections.abc import Iterator

from lienwatch.settings import Settings


@contextlib.contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """The configured database URL, or an embedded PostgreSQL's while the block runs."""
    if settings.database_url:
        yield settings.database_url
        return
    from lienwatch.embedded import start_postgres

    server = start_postgres(settings.data_dir)
    try:
        yield server.url
    finally:
        server.stop()


@contextlib.contextmanager
def mqtt_url(settings: Settings, *, embedded_port: int | None = None) -> Iterator[str]:
    """The configured broker URL, or an embedded broker's (on embedded_port, else any free port)
    while the block runs."""
    if settings.mqtt_url:
        yield settings.mqtt_url
        return
    from lienwatch.embedded import start_broker

    broker = start_broker(embedded_port)
    try:
        yield broker.url
    finally:
        broker.stop()
