"""Migrations, the positions layouts (native partitions and TimescaleDB) and their maintenance."""

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

from domain.assets import Loan, Vehicle
from domain.ids import DeviceId, LoanId, Vin
from domain.position import Position
from domain.vocabulary import Bucket
from storage import maintenance, migrate, stays
from storage.alert_queries import BUCKET_SQL
from storage.loans import loans_by_vin, upsert_loans
from storage.positions import PositionWriter
from storage.vehicles import upsert_vehicles

pytestmark = pytest.mark.db


def _positions(n: int, start: datetime, device: str = "dev-1") -> list[Position]:
    return [
        Position(DeviceId(device), start + timedelta(seconds=10 * i), 31.2 + i * 1e-4, 121.4, received_at=start)
        for i in range(n)
    ]


def test_migrate_applies_once_then_nothing(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        first = migrate.migrate(conn, timescale="off")
        second = migrate.migrate(conn, timescale="off")
        state = migrate.status(conn)
    assert first[:3] == ["0001_core", "0002_quarantine_alerts_audit", "0003_positions (native)"]
    assert len(first) == len(migrate.available_migrations()) - 1  # one of the two positions layouts
    assert second == []
    assert state.pending == [] and state.layout == "native"


def test_cli_migrate_twice_says_nothing_to_apply(fresh_db: str) -> None:
    env = {"LIENWATCH_DATABASE_URL": fresh_db, "LIENWATCH_TIMESCALE": "off", "PATH": "/usr/bin:/bin"}
    run = [sys.executable, "-m", "lienwatch", "db"]
    first = subprocess.run([*run, "migrate"], env=env, capture_output=True, text=True, timeout=60)
    second = subprocess.run([*run, "migrate"], env=env, capture_output=True, text=True, timeout=60)
    status = subprocess.run([*run, "status"], env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert f"{len(migrate.available_migrations()) - 1} migration(s) applied" in first.stdout
    assert "nothing to apply" in second.stdout
    assert "pending: none" in status.stdout and "positions layout: native" in status.stdout


def test_native_layout_partitions_dedups_and_maintains(fresh_db: str) -> None:
    today = datetime.now(UTC).date()
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        migrate.migrate(conn, timescale="off")
        strategy = conn.execute(
            "SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'positions'::regclass"
        ).fetchone()
        assert strategy == ("r",)
        old_day = today - timedelta(days=200)
        maintenance.create_days(conn, [old_day])
        report = maintenance.maintain(conn, today=today, retention_days=180, ahead_days=3, compress_after_days=7)
        assert report.created == [today + timedelta(days=n) for n in range(4)]
        assert report.dropped == [old_day]
        assert maintenance.existing_days(conn) == {today + timedelta(days=n) for n in range(4)}

        writer = PositionWriter(conn, "native")
        batch = _positions(50, datetime.combine(today - timedelta(days=2), datetime.min.time(), UTC))
        writer.ensure_days(batch)  # a backfill day that had no partition yet
        with conn.transaction():
            assert len(writer.insert(batch)) == 50
        with conn.transaction():
            assert writer.insert(batch + batch[:5]) == []  # redelivery: stored once
        assert conn.execute("SELECT count(*) FROM positions").fetchone() == (50,)
        assert today - timedelta(days=2) in maintenance.existing_days(conn)


def test_audit_log_is_append_only(migrated_db: str) -> None:
    with psycopg.connect(migrated_db, autocommit=True) as conn:
        conn.execute(
            """
            INSERT INTO audit_log (actor, action, subject_type, subject_id, purpose)
            VALUES ('u1', 'track.read', 'loan', 'L1', 'recovery')
            """
        )
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute("UPDATE audit_log SET actor = 'someone-else'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM audit_log")
        assert conn.execute("SELECT actor FROM audit_log").fetchall() == [("u1",)]


def _timescale_db(fresh_db: str) -> psycopg.Connection:  # type: ignore[type-arg]
    conn = psycopg.connect(fresh_db, autocommit=True)
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    except psycopg.Error as exc:
        conn.close()
        pytest.skip(f"timescaledb extension cannot be created here: {exc}")
    return conn


@pytest.mark.timescale
def test_timescale_layout_hypertable_policies_and_aggregate(fresh_db: str) -> None:
    with _timescale_db(fresh_db) as conn:
        assert "0003_positions (timescale)" in migrate.migrate(conn, timescale="on")
        maintenance.apply_timescale_policies(conn, retention_days=90, compress_after_days=3)
        maintenance.apply_timescale_policies(conn, retention_days=120, compress_after_days=3)  # changed
        hyper = conn.execute(
            "SELECT compression_enabled FROM timescaledb_information.hypertables WHERE hypertable_name = 'positions'"
        ).fetchone()
        assert hyper == (True,)
        segment = conn.execute(
            """
            SELECT attname FROM timescaledb_information.compression_settings
            WHERE hypertable_name = 'positions' AND segmentby_column_index IS NOT NULL
            """
        ).fetchall()
        assert segment == [("device_id",)]
        jobs = dict(
            conn.execute(
                """
                SELECT proc_name, config FROM timescaledb_information.jobs
                WHERE hypertable_name IN ('positions', '_materialized_hypertable_2')
                   OR proc_name = 'policy_refresh_continuous_aggregate'
                """
            ).fetchall()
        )
        assert jobs["policy_retention"]["drop_after"] == "120 days"
        assert jobs["policy_compression"]["compress_after"] == "3 days"
        assert "policy_refresh_continuous_aggregate" in jobs

        writer = PositionWriter(conn, "timescale")
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
        batch = _positions(120, start)
        with conn.transaction():
            assert len(writer.insert(batch)) == 120
        with conn.transaction():
            assert writer.insert(batch) == []
        rows = conn.execute("SELECT count(*) FROM positions_5min WHERE device_id = 'dev-1'").fetchone()
        assert rows is not None and rows[0] >= 4  # 20 minutes of fixes span at least four 5-min buckets


def test_track_downsampling_query_runs_on_the_native_layout(migrated_db: str) -> None:
    # The same date_bin query serves both layouts; on TimescaleDB the 5-min aggregate may replace it.
    start = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    with psycopg.connect(migrated_db, autocommit=True) as conn:
        writer = PositionWriter(conn, "native")
        batch = _positions(60, start, device="track-1")
        writer.ensure_days(batch)
        with conn.transaction():
            writer.insert(batch)
        buckets = conn.execute(
            """
            SELECT date_bin('5 minutes', ts, TIMESTAMPTZ '2000-01-01') AS bucket, count(*)
            FROM positions WHERE device_id = 'track-1' GROUP BY bucket ORDER BY bucket
            """
        ).fetchall()
    assert [n for _, n in buckets] == [30, 30]
    assert date(2026, 11, 28) == buckets[0][0].date()


def test_night_fixes_are_the_precise_ones_as_a_position_judges_them(migrated_db: str) -> None:
    at = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)
    batch = [
        Position(DeviceId(f"night-{n}"), at, 31.2, 121.4, received_at=at, accuracy_m=acc, source=source)
        for n, (acc, source) in enumerate([(None, "gps"), (500.0, "gps"), (501.0, "gps"), (20.0, "lbs")])
    ]
    assert [p.coarse for p in batch] == [False, False, True, True]
    with psycopg.connect(migrated_db, autocommit=True) as conn:
        writer = PositionWriter(conn, "native")
        writer.ensure_days(batch)
        with conn.transaction():
            writer.insert(batch)
        night = stays.night_fixes(
            conn, [p.device_id for p in batch], at, at + timedelta(hours=1), timezone="UTC", hours=(22, 6)
        )
    assert sorted(night) == ["night-0", "night-1"]


def test_a_loans_portfolio_is_stored_and_read_back(fresh_db: str) -> None:
    vin = Vin("LSVAU2180N2183294")
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        migrate.migrate(conn, timescale="off")
        upsert_vehicles(conn, [Vehicle(vin)])
        upsert_loans(conn, [Loan(LoanId("L-1"), vin, portfolio="subprime-2026")])
        assert loans_by_vin(conn, [vin])[vin].portfolio == "subprime-2026"
        upsert_loans(conn, [Loan(LoanId("L-1"), vin)])
        assert loans_by_vin(conn, [vin])[vin].portfolio is None
        with pytest.raises(psycopg.errors.CheckViolation):
            upsert_loans(conn, [Loan(LoanId("L-1"), vin, portfolio="  ")])


def test_the_sql_bucket_is_the_domain_bucket(migrated_db: str) -> None:
    days = [0, 1, 30, 31, 60, 61, 90, 91, 400]
    with psycopg.connect(migrated_db) as conn:
        rows = conn.execute(
            f"SELECT l.days_past_due, {BUCKET_SQL} FROM unnest(%s::int[]) AS l(days_past_due)", (days,)
        ).fetchall()
    assert {d: b for d, b in rows} == {d: Bucket.of(d).value for d in days}
