"""Shared fixtures: a fresh PostgreSQL database per test run, the broker URL, unique topic prefixes.

PostgreSQL: LIENWATCH_TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres)
is the admin connection; each run creates its own database and drops it at the end.
MQTT: LIENWATCH_TEST_MQTT_URL (default mqtt://127.0.0.1:1883).
"""

import os
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from storage import migrate

ADMIN_URL = os.environ.get("LIENWATCH_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
MQTT_URL = os.environ.get("LIENWATCH_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")


def _with_dbname(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def create_database(prefix: str = "lw_test") -> str:
    """Create an empty database with a unique name; returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return _with_dbname(ADMIN_URL, name)


def drop_database(url: str) -> None:
    """Drop a database made by create_database, closing its connections first."""
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_available() -> None:
    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=3):
            pass
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {ADMIN_URL} is not reachable: {exc}")


@pytest.fixture(scope="session")
def migrated_db(pg_available: None) -> Iterator[str]:
    """A database migrated with the native layout, shared by the session's tests."""
    url = create_database()
    with psycopg.connect(url, autocommit=True) as conn:
        migrate.migrate(conn, timescale="off")
    yield url
    drop_database(url)


@pytest.fixture
def fresh_db(pg_available: None) -> Iterator[str]:
    """An empty database of the test's own (not migrated)."""
    url = create_database()
    yield url
    drop_database(url)


@pytest.fixture
def topic_prefix() -> str:
    """A topic prefix unique to this test, so tests on one broker never see each other's messages."""
    return f"lwtest-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def mqtt_url() -> str:
    return MQTT_URL
