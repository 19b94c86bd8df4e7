"""Legal holds gate location and the recovery actions for every role, and are one per kind."""

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from lienwatch.api_wiring import app_for
from tests.support.api_harness import (
    NOW,
    add_alert,
    add_device,
    add_loan,
    add_positions,
    add_user,
    auth,
    own_database,
)

pytestmark = [pytest.mark.db, pytest.mark.mqtt]

LAT, LON = 31.230416, 121.473701


@pytest.fixture(scope="module")
def db(pg_available: None) -> Iterator[str]:
    with own_database() as url:
        yield url


@pytest.fixture(scope="module")
def client(db: str, mqtt_url: str) -> Iterator[TestClient]:
    with TestClient(app_for(database_url=db, mqtt_url=mqtt_url, webhook_interval_s=None)) as c:
        yield c


@pytest.fixture
def held(client: TestClient, db: str) -> dict[str, Any]:
    """A 40-days-past-due loan of a collector's, with a tracker, fixes and two alerts, under a bankruptcy hold."""
    ana, token = add_user(db, "collector")
    boss = auth(add_user(db, "supervisor")[1])
    loan_id, vin = add_loan(db, dpd=40, collector=ana)
    device = add_device(db, vin)
    add_positions(db, device, [(NOW - timedelta(minutes=m), LAT, LON) for m in (30, 20, 10)])
    alerts = [add_alert(db, loan_id, vin, kind=k) for k in ("long_idle", "risk_zone_dwell")]
    placed = client.post(f"/api/v1/loans/{loan_id}/holds", json={"kind": "bankruptcy", "note": "ch. 7"}, headers=boss)
    assert placed.status_code == 201, placed.text
    return {
        "ana": ana,
        "collector": auth(token),
        "boss": boss,
        "loan_id": loan_id,
        "vin": vin,
        "device": device,
        "alerts": alerts,
        "hold_id": placed.json()["hold_id"],
    }


def test_a_held_loan_gets_no_precise_status_track_or_evidence(client: TestClient, held: dict[str, Any]) -> None:
    vin = held["vin"]
    for headers in (held["collector"], held["boss"]):
        status = client.get(f"/api/v1/vehicles/{vin}", params={"purpose": "chase"}, headers=headers).json()
        assert status["precise_location"] is False
        assert "legal hold" in status["access_reason"] and "bankruptcy" in status["access_reason"]
        assert (status["devices"][0]["lat"], status["devices"][0]["lon"]) == (31.2, 121.5)
        track = client.get(
            f"/api/v1/vehicles/{vin}/track",
            params={"start": (NOW - timedelta(hours=1)).isoformat(), "end": NOW.isoformat(), "purpose": "chase"},
            headers=headers,
        )
        assert track.status_code == 403 and "legal hold" in track.json()["detail"]
        detail = client.get(f"/api/v1/alerts/{held['alerts'][0]}", params={"purpose": "review"}, headers=headers).json()
        assert detail["precise_location"] is False
        assert detail["evidence"]["fixes"] == [{"lat": 31.2, "lon": 121.5}]
    released = client.delete(f"/api/v1/loans/{held['loan_id']}/holds/{held['hold_id']}", headers=held["boss"])
    assert released.status_code == 200
    status = client.get(f"/api/v1/vehicles/{vin}", params={"purpose": "chase"}, headers=held["collector"]).json()
    assert status["precise_location"] is True and status["devices"][0]["lat"] == LAT


def test_a_held_loan_refuses_recovery_actions_for_every_role(client: TestClient, held: dict[str, Any]) -> None:
    first, second = held["alerts"]
    path = f"/api/v1/alerts/{first}/transitions"
    assign = client.post(path, json={"event": "assign", "assignee": held["ana"]}, headers=held["boss"])
    assert assign.status_code == 409, assign.text
    assert assign.json()["hold"] == "bankruptcy" and assign.json()["title"] == "Legal hold in force"
    recovered = {"event": "resolve", "disposition": "confirmed", "note": "car recovered"}
    for headers in (held["collector"], held["boss"]):
        assert client.post(path, json=recovered, headers=headers).status_code == 409
    command = client.post(
        f"/api/v1/devices/{held['device']}/commands",
        json={"command": "chase_on", "purpose": "find"},
        headers=held["boss"],
    )
    assert command.status_code == 409 and "legal hold" in command.json()["detail"]
    # Keeping the record straight is not a recovery step.
    assert client.post(path, json={"event": "acknowledge"}, headers=held["collector"]).status_code == 200
    dismissed = client.post(
        f"/api/v1/alerts/{second}/transitions",
        json={"event": "dismiss", "disposition": "false_positive"},
        headers=held["collector"],
    )
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    alert = client.get(f"/api/v1/alerts/{first}", params={"purpose": "review"}, headers=held["boss"]).json()
    assert (alert["status"], alert["assignee"]) == ("acknowledged", None)


def test_a_hold_is_placed_once_per_kind(client: TestClient, held: dict[str, Any], db: str) -> None:
    path = f"/api/v1/loans/{held['loan_id']}/holds"
    for _ in range(2):
        again = client.post(path, json={"kind": "bankruptcy"}, headers=held["boss"])
        assert again.status_code == 409 and again.json()["hold_id"] == held["hold_id"], again.text
    assert client.post(path, json={"kind": "dispute"}, headers=held["boss"]).status_code == 201
    # A promise to pay whose date has passed gives way to a new promise.
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO loan_holds (loan_id, kind, until) VALUES (%s, 'promise_to_pay', %s)",
            (held["loan_id"], date.today() - timedelta(days=2)),
        )
    renewed = client.post(
        path, json={"kind": "promise_to_pay", "until": str(date.today() + timedelta(days=7))}, headers=held["boss"]
    )
    assert renewed.status_code == 201, renewed.text
    kinds = sorted(
        h["kind"] for h in client.get(f"/api/v1/loans/{held['loan_id']}", headers=held["boss"]).json()["holds"]
    )
    assert kinds == ["bankruptcy", "dispute", "promise_to_pay"]
    with psycopg.connect(db) as conn, pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute("INSERT INTO loan_holds (loan_id, kind) VALUES (%s, 'dispute')", (held["loan_id"],))
