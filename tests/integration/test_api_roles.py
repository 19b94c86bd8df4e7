"""One permission check per field and transition: a loan's collector changes only with
loans.assign, an alert's assignee only through an assign, and either names a user allowed to work
the loan."""

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from lienwatch.api_wiring import app_for
from tests.support.api_harness import add_alert, add_loan, add_user, auth, own_database, unique

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def db(pg_available: None) -> Iterator[str]:
    with own_database() as url:
        yield url


@pytest.fixture(scope="module")
def client(db: str, mqtt_url: str) -> Iterator[TestClient]:
    with TestClient(app_for(database_url=db, mqtt_url=mqtt_url, webhook_interval_s=None)) as c:
        yield c


def _collector_of(db: str, loan_id: str) -> Any:
    with psycopg.connect(db) as conn:
        row = conn.execute("SELECT assigned_collector FROM loans WHERE loan_id = %s", (loan_id,)).fetchone()
    return row[0] if row else "absent"


def test_the_loan_system_cannot_reassign_a_loan_through_a_loan_push(client: TestClient, db: str) -> None:
    ana, _ = add_user(db, "collector")
    bo, _ = add_user(db, "collector")
    system = auth(add_user(db, "integration")[1])
    loan_id, vin = add_loan(db, dpd=3, collector=ana)
    assert client.put(f"/api/v1/loans/{loan_id}/assignment", json={"collector": bo}, headers=system).status_code == 403
    pushed = client.put(f"/api/v1/loans/{loan_id}", json={"vin": vin, "assigned_collector": bo}, headers=system)
    assert pushed.status_code == 403, pushed.text
    assert pushed.json()["family"] == "loans.assign"
    assert _collector_of(db, loan_id) == ana
    # A push that leaves the field out, or repeats it, keeps the assignment.
    assert (
        client.put(f"/api/v1/loans/{loan_id}", json={"vin": vin, "days_past_due": 9}, headers=system).json()[
            "assigned_collector"
        ]
        == ana
    )
    same = client.put(f"/api/v1/loans/{loan_id}", json={"vin": vin, "assigned_collector": ana}, headers=system)
    assert same.status_code == 200
    new_id = unique("L")
    bulk = {"loans": [{"loan_id": new_id, "vin": unique("VIN"), "assigned_collector": bo}]}
    assert client.post("/api/v1/loans/bulk", json=bulk, headers=system).status_code == 403
    assert _collector_of(db, new_id) == "absent"
    csv = f"loan_id,vin,assigned_collector\n{new_id},{unique('VIN')},{bo}\n"
    headers = system | {"Content-Type": "text/csv"}
    assert client.post("/api/v1/loans/bulk.csv", content=csv.encode(), headers=headers).status_code == 403


def test_a_loan_is_assigned_only_to_an_enabled_collector(client: TestClient, db: str) -> None:
    admin = auth(add_user(db, "admin")[1])
    ana, _ = add_user(db, "collector")
    boss, _ = add_user(db, "supervisor")
    loan_id, vin = add_loan(db, dpd=3)
    for name in ("nobody-" + unique("x"), boss):
        refused = client.put(f"/api/v1/loans/{loan_id}/assignment", json={"collector": name}, headers=admin)
        assert refused.status_code == 422 and refused.json()["field"] == "assigned_collector", refused.text
        pushed = client.put(f"/api/v1/loans/{loan_id}", json={"vin": vin, "assigned_collector": name}, headers=admin)
        assert pushed.status_code == 422
    assert _collector_of(db, loan_id) is None
    assert client.put(f"/api/v1/loans/{loan_id}/assignment", json={"collector": ana}, headers=admin).status_code == 200
    assert (
        client.put(f"/api/v1/loans/{loan_id}", json={"vin": vin, "assigned_collector": None}, headers=admin).json()[
            "assigned_collector"
        ]
        is None
    )


def test_an_acknowledge_cannot_carry_an_assignee_or_a_disposition(client: TestClient, db: str) -> None:
    ana, token = add_user(db, "collector")
    loan_id, vin = add_loan(db, dpd=40, collector=ana)
    alert_id = add_alert(db, loan_id, vin)
    path = f"/api/v1/alerts/{alert_id}/transitions"
    sneaky = client.post(path, json={"event": "acknowledge", "assignee": ana}, headers=auth(token))
    assert sneaky.status_code == 422 and sneaky.json()["field"] == "assignee", sneaky.text
    with_disposition = client.post(path, json={"event": "acknowledge", "disposition": "test"}, headers=auth(token))
    assert with_disposition.status_code == 422
    acknowledged = client.post(path, json={"event": "acknowledge"}, headers=auth(token)).json()
    assert (acknowledged["status"], acknowledged["assignee"]) == ("acknowledged", None)


def test_an_alert_is_assigned_only_to_a_user_who_may_work_its_loan(client: TestClient, db: str) -> None:
    ana, _ = add_user(db, "collector")
    bo, _ = add_user(db, "collector")
    system, _ = add_user(db, "integration")
    boss = auth(add_user(db, "supervisor")[1])
    loan_id, vin = add_loan(db, dpd=40, collector=ana)
    alert_id = add_alert(db, loan_id, vin)
    path = f"/api/v1/alerts/{alert_id}/transitions"
    for name in ("ghost-" + unique("x"), bo, system):
        refused = client.post(path, json={"event": "assign", "assignee": name}, headers=boss)
        assert refused.status_code == 422 and refused.json()["field"] == "assignee", (name, refused.text)
    assigned = client.post(path, json={"event": "assign", "assignee": ana}, headers=boss).json()
    assert (assigned["status"], assigned["assignee"]) == ("assigned", ana)
