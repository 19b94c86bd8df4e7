"""Hostile values in every field of the write endpoints: a clear 4xx and nothing stored, or a
value stored exactly as sent — never a server error, never a change anywhere else."""

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from lienwatch.api_wiring import app_for
from tests.support.api_harness import add_user, auth, own_database, unique

pytestmark = pytest.mark.db

HOSTILE: list[Any] = [
    "'; DROP TABLE loans; --",
    "1 OR 1=1",
    '" OR ""="',
    "Robert'); DELETE FROM audit_log;--",
    "\u202eevil\u200b",  # right-to-left override, zero-width space
    "二押点 🚗",
    "a\u0000b",  # PostgreSQL text cannot hold NUL
    "x" * 100_000,
    1e308,
    -1,
    10**30,
    True,
    None,
    [],
    {"$ne": 1},
]
TABLES = ("loans", "vehicles", "devices", "fences", "loan_holds")


@pytest.fixture(scope="module")
def db(pg_available: None) -> Iterator[str]:
    with own_database() as url:
        yield url


@pytest.fixture(scope="module")
def client(db: str, mqtt_url: str) -> Iterator[TestClient]:
    with TestClient(app_for(database_url=db, mqtt_url=mqtt_url, webhook_interval_s=None)) as c:
        yield c


def _snapshot(db: str) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(db) as conn:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in TABLES}


def _changed(before: dict[str, list[tuple[Any, ...]]], after: dict[str, list[tuple[Any, ...]]]) -> set[str]:
    return {t for t in TABLES if before[t] != after[t]}


def test_every_loan_field_refuses_or_stores_exactly(client: TestClient, db: str) -> None:
    headers = auth(add_user(db, "integration")[1])
    loan_id, vin = unique("L"), unique("VIN")
    base = {
        "vin": vin,
        "plate": "沪B12345",
        "borrower_name": "Li Si",
        "days_past_due": 10,
        "outstanding_balance": "1000.00",
        "bound_region": "CN-SH",
    }
    assert client.put(f"/api/v1/loans/{loan_id}", json=base, headers=headers).status_code == 201
    # assigned_collector: the loan system may not change it (403), whatever the value.
    for field in [*base, "currency", "home_lat", "home_lon", "status", "make_model", "assigned_collector"]:
        for value in HOSTILE:
            before = _snapshot(db)
            response = client.put(f"/api/v1/loans/{loan_id}", json=base | {field: value}, headers=headers)
            after = _snapshot(db)
            assert response.status_code < 500, (field, repr(value)[:40], response.text[:200])
            if response.status_code >= 400:
                assert response.headers["content-type"].startswith("application/problem+json")
                assert _changed(before, after) == set(), (field, repr(value)[:40])
            else:
                # Accepted: only the loan (and, for a new VIN, vehicles) changed, and the value is verbatim.
                assert _changed(before, after) <= {"loans", "vehicles"}, (field, repr(value)[:40])
                if isinstance(value, str) and field in ("borrower_name", "bound_region", "assigned_collector"):
                    with psycopg.connect(db) as conn:
                        row = conn.execute(f"SELECT {field} FROM loans WHERE loan_id = %s", (loan_id,)).fetchone()
                    assert row == (value,), field
                client.put(f"/api/v1/loans/{loan_id}", json=base, headers=headers)  # back to the base


def test_hostile_ids_and_oversized_bodies_are_refused(client: TestClient, db: str) -> None:
    admin = auth(add_user(db, "admin")[1])
    before = _snapshot(db)
    for loan_id in ["'; DROP TABLE loans; --", "x" * 500, "a%00b"]:
        response = client.put(f"/api/v1/loans/{loan_id}", json={"vin": unique("VIN")}, headers=admin)
        assert response.status_code < 500, (repr(loan_id)[:30], response.text[:200])
    big = client.put(
        f"/api/v1/loans/{unique('L')}",
        content=b'{"vin": "' + b"V" * 3_000_000 + b'"}',
        headers=admin | {"content-type": "application/json"},
    )
    assert 400 <= big.status_code < 500
    device = client.put("/api/v1/devices/dev%27%3B--", json={"kind": "wired"}, headers=admin)
    assert device.status_code < 500
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [1e308, "x"]},
        "properties": {"name": "'; DROP TABLE fences; --", "kind": "risk_zone"},
    }
    fence = client.post("/api/v1/fences", json=feature, headers=admin)
    assert 400 <= fence.status_code < 500
    after = _snapshot(db)
    # Only a loan whose odd id is nonetheless a valid id may have been created; nothing else moved.
    assert _changed(before, after) <= {"loans", "vehicles", "devices"}
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT to_regclass('loans') IS NOT NULL").fetchone() == (True,)
