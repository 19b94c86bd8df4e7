"""The services' database role does its work but cannot touch the audit log beyond appending:
no UPDATE, DELETE or TRUNCATE, and no disabling of the append-only trigger (migration 0009)."""

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from fastapi.testclient import TestClient

from benchmarks.local_mosquitto import PrivateMosquitto
from lienwatch.api_wiring import app_for
from storage import audit, maintenance
from tests.conftest import ADMIN_URL
from tests.support.api_harness import add_device, add_loan, add_user, auth, own_database
from tests.support.ingest_harness import RunningIngest, count, publish, register, wait_for

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def owner_url(pg_available: None) -> Iterator[str]:
    with own_database() as url:
        yield url


@pytest.fixture(scope="module")
def service_url(owner_url: str) -> Iterator[str]:
    """A login role of the services' kind: a member of lienwatch_service, owning nothing."""
    role = f"lw_svc_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN IN ROLE lienwatch_service")
    parts = urlsplit(owner_url)
    yield urlunsplit(parts._replace(netloc=f"{role}@{parts.hostname}:{parts.port}"))
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'")
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP ROLE {role}")


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
        "ALTER TABLE audit_log DISABLE TRIGGER ALL",
        "DROP TRIGGER audit_log_append_only ON audit_log",
        "CREATE OR REPLACE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql"
        " AS $$BEGIN RETURN NULL; END$$",
        "UPDATE audit_log SET purpose = 'rewritten'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "ALTER TABLE audit_log OWNER TO CURRENT_USER",
    ],
)
def test_the_service_role_cannot_rewrite_the_audit_log(service_url: str, owner_url: str, statement: str) -> None:
    with psycopg.connect(service_url, autocommit=True) as conn:
        audit_id = audit.record(conn, actor="svc", action="probe", subject_type="test", subject_id="1", purpose="probe")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)
    with psycopg.connect(owner_url) as conn:
        row = conn.execute("SELECT purpose FROM audit_log WHERE audit_id = %s", (audit_id,)).fetchone()
        enabled = conn.execute("SELECT tgenabled FROM pg_trigger WHERE tgname = 'audit_log_append_only'").fetchone()
    assert row == ("probe",)
    assert enabled == ("O",)


def test_the_service_role_keeps_day_partitions_and_serves_the_api(
    service_url: str, owner_url: str, mqtt_url: str
) -> None:
    today = datetime.now(UTC).date()
    with psycopg.connect(service_url, autocommit=True) as conn:
        old = today - timedelta(days=400)
        maintenance.create_days(conn, [old])
        report = maintenance.maintain(conn, today=today, retention_days=180, ahead_days=2, compress_after_days=7)
        days = maintenance.existing_days(conn)
    assert report.dropped == [old] and old not in days
    assert {today, today + timedelta(days=2)} <= days
    with psycopg.connect(owner_url) as conn:
        owners = conn.execute(
            "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class WHERE relname LIKE 'positions_p%%'"
        ).fetchall()
    assert owners == [(urlsplit(owner_url).username,)]  # made by the function, owned by the schema's owner

    name, token = add_user(owner_url, "supervisor")
    loan_id, vin = add_loan(owner_url, dpd=40)
    add_device(owner_url, vin)
    with TestClient(app_for(database_url=service_url, mqtt_url=mqtt_url, webhook_interval_s=None)) as client:
        assert client.get("/api/v1/alerts", headers=auth(token)).status_code == 200
        status = client.get(f"/api/v1/vehicles/{vin}", params={"purpose": "check"}, headers=auth(token))
        assert status.status_code == 200, status.text
        hold = client.post(f"/api/v1/loans/{loan_id}/holds", json={"kind": "dispute"}, headers=auth(token))
        assert hold.status_code == 201, hold.text
    assert count(owner_url, "SELECT count(*) FROM audit_log WHERE actor = %s", name) == 1


def test_the_ingestor_runs_as_the_service_role(
    service_url: str, owner_url: str, private_broker: PrivateMosquitto
) -> None:
    register(owner_url, "svc-1")
    backfill = datetime.combine(date.today() - timedelta(days=20), datetime.min.time(), tzinfo=UTC)
    fixes = [{"ts": (backfill + timedelta(minutes=m)).isoformat(), "lat": 31.23, "lon": 121.47} for m in range(3)]
    with RunningIngest(service_url, private_broker.url):
        publish(private_broker.url, [("trackers/svc-1/position", json.dumps(fixes).encode())])
        publish(private_broker.url, [("trackers/nobody/position", b"{}")])
        assert wait_for(lambda: count(owner_url, "SELECT count(*) FROM positions WHERE device_id = 'svc-1'") == 3)
        assert wait_for(lambda: count(owner_url, "SELECT count(*) FROM quarantine") >= 1)
