"""Whether the database answers, for the API's readiness check."""

from psycopg_pool import ConnectionPool

from storage.database import Connection


def reachable(pool: ConnectionPool[Connection], *, timeout_s: float = 2.0) -> bool:
    """A connection from the pool runs a trivial query within the timeout."""
    try:
        with pool.connection(timeout=timeout_s) as conn:
            conn.execute("SELECT 1")
        return True
    except Exception:  # psycopg errors and the pool's own PoolTimeout alike mean "not ready"
        return False
