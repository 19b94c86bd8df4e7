"""Reads that are refused are audited too, an alert's evidence needs a stated purpose, and
`lienwatch home` (which prints where a car sleeps) writes an audit row."""

from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from lienwatch.api_wiring import app_for
from lienwatch.cli import app as cli_app
from tests.support.api_harness import (
    NOW,
    add_alert,
    add_device,
    add_loan,
    add_positions,
    add_user,
    audit_rows,
    auth,
    own_database,
    unique,
)

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def db(pg_available: None) -> Iterator[str]:
    with own_database() as url:
        yield url


@pytest.fixture(scope="module")
def client(db: str, mqtt_url: str) -> Iterator[TestClient]:
    with TestClient(app_for(database_url=db, mqtt_url=mqtt_url, webhook_interval_s=None)) as c:
        yield c


def test_out_of_scope_reads_are_audited(client: TestClient, db: str) -> None:
    owner, _ = add_user(db, "collector")
    prober, token = add_user(db, "collector")
    loan_id, vin = add_loan(db, dpd=50, collector=owner)
    alert_id = add_alert(db, loan_id, vin)
    headers = auth(token)
    window = {"start": (NOW - timedelta(hours=1)).isoformat(), "end": NOW.isoformat(), "purpose": "probe"}
    assert client.get(f"/api/v1/vehicles/{vin}", params={"purpose": "probe"}, headers=headers).status_code == 404
    assert client.get(f"/api/v1/vehicles/{vin}/track", params=window, headers=headers).status_code == 404
    assert client.get(f"/api/v1/alerts/{alert_id}", params={"purpose": "probe"}, headers=headers).status_code == 404
    assert client.get(f"/api/v1/loans/{loan_id}", headers=headers).status_code == 404
    ghost = unique("VIN")
    assert client.get(f"/api/v1/vehicles/{ghost}", params={"purpose": "probe"}, headers=headers).status_code == 404
    rows = audit_rows(db, actor=prober, action="out_of_scope_read")
    assert [(r[1], r[2], r[3], r[4]["read"]) for r in rows] == [
        ("vehicle", vin, "probe", "location_read"),
        ("vehicle", vin, "probe", "track_read"),
        ("alert", str(alert_id), "probe", "alert_evidence_read"),
        ("loan", loan_id, None, "loan_read"),
        ("vehicle", ghost, "probe", "location_read"),
    ]


def test_alert_evidence_needs_a_stated_purpose(client: TestClient, db: str) -> None:
    name, token = add_user(db, "supervisor")
    loan_id, vin = add_loan(db, dpd=5)
    alert_id = add_alert(db, loan_id, vin)
    missing = client.get(f"/api/v1/alerts/{alert_id}", headers=auth(token))
    assert missing.status_code == 422 and "purpose" in missing.json()["detail"]
    assert audit_rows(db, actor=name) == []
    stated = client.get(f"/api/v1/alerts/{alert_id}", params={"purpose": "triage"}, headers=auth(token))
    assert stated.status_code == 200
    assert [(r[0], r[3]) for r in audit_rows(db, actor=name)] == [("alert_evidence_read", "triage")]


def test_home_is_audited_with_its_purpose(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _, vin = add_loan(db, dpd=5)
    device = add_device(db, vin)
    add_positions(db, device, [(NOW - timedelta(days=1, minutes=m), 31.23, 121.47) for m in range(0, 600, 30)])
    monkeypatch.setenv("LIENWATCH_DATABASE_URL", db)
    runner = CliRunner()
    refused = runner.invoke(cli_app, ["home", vin])
    assert refused.exit_code == 2  # --purpose is required
    result = runner.invoke(cli_app, ["home", vin, "--purpose", "relocation check"])
    assert result.exit_code == 0, result.output
    with psycopg.connect(db) as conn:
        rows = conn.execute(
            "SELECT actor, subject_id, purpose FROM audit_log WHERE action = 'home_read' AND subject_id = %s", (vin,)
        ).fetchall()
    assert len(rows) == 1 and rows[0][0].startswith("cli:") and rows[0][2] == "relocation check"
