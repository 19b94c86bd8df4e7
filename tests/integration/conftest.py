from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from benchmarks.local_mosquitto import PrivateMosquitto
from storage import migrate
from tests.conftest import create_database, drop_database


@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[PrivateMosquitto]:
    """A Mosquitto of this test's own, with deploy/mosquitto/mosquitto.conf's queue settings."""
    broker = PrivateMosquitto(tmp_path / "mosquitto")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def ingest_db(pg_available: None) -> Iterator[str]:
    """A freshly migrated database (native layout) for one ingest test."""
    url = create_database("lw_ingest")
    with psycopg.connect(url, autocommit=True) as conn:
        migrate.migrate(conn, timescale="off")
    yield url
    drop_database(url)
