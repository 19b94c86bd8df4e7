"""Which phones are registered devices: asked when a terminal registers, from the gateway's thread pool."""

import threading

import psycopg

from storage.database import Connection, connect
from storage.errors import DatabaseUnavailable


class DeviceDirectory:
    """One connection of its own, reopened after an outage; a lookup is one indexed query."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    def is_registered(self, device_id: str) -> bool:
        """True when the id is an active registered device; DatabaseUnavailable on an outage."""
        with self._lock:
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = connect(self._url, autocommit=True)
                row = self._conn.execute(
                    "SELECT 1 FROM devices WHERE active AND device_id = %s", (device_id,)
                ).fetchone()
            except psycopg.Error as exc:
                self.close_locked()
                raise DatabaseUnavailable(f"device lookup failed: {exc}") from exc
            return row is not None

    def close_locked(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None

    def close(self) -> None:
        """Close the connection, if open."""
        with self._lock:
            self.close_locked()
