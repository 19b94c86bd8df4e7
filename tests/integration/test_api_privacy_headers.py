"""Collectors see only their own loans among a fence's bindings, and location responses are
never cached."""

import base64
from collections.abc import Iterator
from datetime import timedelta

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

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def db(pg_available: None) -> Iterator[str]:
    with own_database() as url:
        yield url


@pytest.fixture(scope="module")
def client(db: str, mqtt_url: str) -> Iterator[TestClient]:
    with TestClient(app_for(database_url=db, mqtt_url=mqtt_url, webhook_interval_s=None)) as c:
        yield c


def test_a_collector_sees_only_their_own_loans_on_a_fence(client: TestClient, db: str) -> None:
    ana, ana_token = add_user(db, "collector")
    bo, _ = add_user(db, "collector")
    boss = auth(add_user(db, "supervisor")[1])
    mine, _ = add_loan(db, collector=ana)
    theirs, _ = add_loan(db, collector=bo)
    home = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [121.47, 31.23]},
        "properties": {"name": "shared yard", "kind": "risk_zone", "radius_m": 100, "loan_ids": [mine, theirs]},
    }
    created = client.post("/api/v1/fences", json=home, headers=boss)
    assert created.status_code == 201, created.text
    fence_id = created.json()["id"]
    assert sorted(created.json()["properties"]["loan_ids"]) == sorted([mine, theirs])
    seen = client.get(f"/api/v1/fences/{fence_id}", headers=auth(ana_token)).json()
    assert seen["properties"]["loan_ids"] == [mine]
    listed = client.get("/api/v1/fences", headers=auth(ana_token)).json()["features"]
    assert [f["properties"]["loan_ids"] for f in listed if f["id"] == fence_id] == [[mine]]
    assert sorted(client.get(f"/api/v1/fences/{fence_id}", headers=boss).json()["properties"]["loan_ids"]) == sorted(
        [mine, theirs]
    )


def test_location_responses_are_not_stored(client: TestClient, db: str) -> None:
    token = auth(add_user(db, "supervisor")[1])
    loan_id, vin = add_loan(db, dpd=40)
    device = add_device(db, vin)
    add_positions(db, device, [(NOW - timedelta(minutes=5), 31.23, 121.47)])
    alert_id = add_alert(db, loan_id, vin)
    window = {"start": (NOW - timedelta(hours=1)).isoformat(), "end": NOW.isoformat(), "purpose": "chase"}
    responses = [
        client.get(f"/api/v1/vehicles/{vin}", params={"purpose": "chase"}, headers=token),
        client.get(f"/api/v1/vehicles/{vin}/track", params=window, headers=token),
        client.get(f"/api/v1/vehicles/{vin}/track", params=window | {"format": "csv"}, headers=token),
        client.get(f"/api/v1/alerts/{alert_id}", params={"purpose": "chase"}, headers=token),
    ]
    for response in responses:
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store", response.url


def test_database_error_text_never_reaches_the_client(client: TestClient, db: str) -> None:
    boss = auth(add_user(db, "supervisor")[1])
    bound_to_nothing = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [121.47, 31.23]},
        "properties": {"name": "yard", "kind": "risk_zone", "radius_m": 100, "loan_ids": ["no-such-loan"]},
    }
    response = client.post("/api/v1/fences", json=bound_to_nothing, headers=boss)
    assert response.status_code == 409, response.text
    assert response.json()["detail"] == "the change conflicts with stored data"
    for leak in ("fence_loans", "violates", "Key (", "no-such-loan"):
        assert leak not in response.text


def test_a_nan_cursor_is_422(client: TestClient, db: str) -> None:
    token = auth(add_user(db, "supervisor")[1])
    nan = base64.urlsafe_b64encode(b"[NaN, 5]").decode().rstrip("=")
    response = client.get("/api/v1/alerts", params={"cursor": nan}, headers=token)
    assert response.status_code == 422 and response.json()["field"] == "cursor"
