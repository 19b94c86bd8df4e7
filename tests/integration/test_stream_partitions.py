"""The database fences a worker that lost its partition: a newer claim makes its commit fail whole."""

from datetime import UTC, datetime

import psycopg
import pytest

from storage import partitions

pytestmark = pytest.mark.db


def test_a_stale_owner_cannot_commit_after_a_newer_claim(ingest_db: str) -> None:
    t = datetime(2026, 11, 28, 8, tzinfo=UTC)
    with psycopg.connect(ingest_db, autocommit=True) as conn:
        first = partitions.claim(conn, 3, "worker-a")
        assert (first.epoch, first.last_seq, first.watermark) == (1, 0, None)
        with conn.transaction():
            partitions.advance(conn, {3: partitions.Advance(first.epoch, 120, t)})
        second = partitions.claim(conn, 3, "worker-b")
        # The new owner resumes exactly after what the old one committed.
        assert (second.epoch, second.last_seq, second.watermark) == (2, 120, t)
        conn.execute("CREATE TABLE probe (n int)")
        with pytest.raises(partitions.Fenced) as refused, conn.transaction():
            conn.execute("INSERT INTO probe VALUES (1)")  # what the stale batch stored with it
            partitions.advance(conn, {3: partitions.Advance(first.epoch, 200, t)})
        assert refused.value.partition == 3
        row = conn.execute("SELECT count(*) FROM probe").fetchone()
        assert row == (0,)  # rolled back with the fence
        assert partitions.progress(conn)[3] == ("worker-b", 2, 120)
        with conn.transaction():
            partitions.advance(conn, {3: partitions.Advance(second.epoch, 180, None)})
        assert partitions.progress(conn)[3] == ("worker-b", 2, 180)
