"""Opening connections to the configured database."""

import psycopg
from psycopg.rows import TupleRow

from storage.errors import DatabaseUnavailable

Connection = psycopg.Connection[TupleRow]


def connect(url: str, *, autocommit: bool = False) -> Connection:
    """A synchronous connection, with connection errors translated."""
    try:
        return psycopg.connect(url, autocommit=autocommit, application_name="lienwatch")
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"cannot connect to the database: {exc}") from exc

