"""No coordinate finer than the caller may see leaves lienwatch, by any way out.

A current loan (no precise access) and a delinquent one (precise access) get the same data: a
car with fixes and three nights at home, a home point, a home fence, and a relocation alert whose
evidence and history carry coordinates in every shape the detectors write. Then every GET
operation of the OpenAPI document is called as a collector, a supervisor and an admin, the live
stream is read while the alert changes, the webhook outbox is read, and `lienwatch home` is run.
The secrets are searched for in the raw bodies as text (four decimals, about 10 m), so a
coordinate in a new field, a string or a CSV cell is found as well as one in a known key.
"""

import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.types.json import Jsonb
from typer.testing import CliRunner

from alerts.actions import AlertDraft
from lienwatch.api_wiring import app_for
from lienwatch.cli import app as cli_app
from storage import webhooks
from storage.alerts import upsert
from tests.support.api_harness import (
    NOW,
    add_device,
    add_loan,
    add_positions,
    add_user,
    auth,
    own_database,
)

pytestmark = pytest.mark.db

# Coordinates whose first four decimals occur nowhere else in a response (rounded, the current
# car's read 31.2 / 121.5). HOME is where the car spends the nights; the others are evidence
# points. The delinquent car lives a tenth of a degree north, so each car's secrets are its own
# even in lists that show both.
HOME = (31.234617, 121.472389)
STAY = (31.246813, 121.481297)
PARTNER = (31.258249, 121.493561)
NORTH = {"current": 0.0, "overdue": 0.1}


def _secrets(which: str) -> list[str]:
    return [f"{v + NORTH[which] * (i % 2 == 0):.4f}" for p in (HOME, STAY, PARTNER) for i, v in enumerate(p)]


def _leaks(text: str, which: str = "current") -> set[str]:
    return {s for s in _secrets(which) if s in text}


def _evidence(north: float) -> dict[str, Any]:
    """Coordinates in every shape the detectors write: fixes, stays, home, partner, GeoJSON."""
    home, stay, partner = ((p[0] + north, p[1]) for p in (HOME, STAY, PARTNER))
    fix = {"ts": NOW.isoformat(), "lat": stay[0], "lon": stay[1], "accuracy_m": 8.0}
    return {
        "reason": "overnight_far",
        "stays": [fix],
        "home": {"lat": home[0], "lon": home[1], "nights": 3},
        "fix": fix,
        "last": {"ts": NOW.isoformat(), "lat": stay[0], "lon": stay[1]},
        "partner": {"device_id": "x", "lat": partner[0], "lon": partner[1]},
        "home_lat": home[0],
        "fence": {"geometry": {"type": "Point", "coordinates": [home[1], home[0]]}},
    }


def _car(db: str, which: str, *, dpd: int, collector: str) -> dict[str, Any]:
    home, stay = (HOME[0] + NORTH[which], HOME[1]), (STAY[0] + NORTH[which], STAY[1])
    loan_id, vin = add_loan(db, dpd=dpd, collector=collector)
    device = add_device(db, vin)
    # Three nights at home (22:00-06:00 Asia/Shanghai = 14:00-22:00 UTC), then a fix at STAY.
    nights = []
    for day in range(1, 4):
        start = (NOW - timedelta(days=day)).replace(hour=14, minute=0, second=0)
        nights += [(start + timedelta(minutes=10 * i), *home) for i in range(48)]
    add_positions(db, device, [*nights, (NOW - timedelta(minutes=30), *stay)])
    draft = AlertDraft(
        kind="relocation",
        severity="high",
        loan_id=loan_id,
        vin=vin,
        subject="",
        at=NOW - timedelta(minutes=20),
        priority=5.0,
        hold_reason=None,
        evidence=_evidence(NORTH[which]),
    )
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("UPDATE loans SET home_lat = %s, home_lon = %s WHERE loan_id = %s", (*home, loan_id))
        with conn.transaction():
            alert_id, _ = upsert(conn, draft)
            webhooks.enqueue_alert_event(conn, alert_id, "alert.opened")
        fence_id = conn.execute(
            """
            INSERT INTO fences (name, kind, geometry, radius_m, is_global)
            VALUES ('home', 'home', %s, 200, false) RETURNING fence_id
            """,
            (Jsonb({"type": "Point", "coordinates": [home[1], home[0]]}),),
        ).fetchone()[0]  # type: ignore[index]
        conn.execute("INSERT INTO fence_loans (fence_id, loan_id) VALUES (%s, %s)", (fence_id, loan_id))
    return {
        "loan_id": loan_id,
        "vin": vin,
        "device_id": device,
        "alert_id": alert_id,
        "fence_id": fence_id,
        "draft": draft,
    }


@pytest.fixture(scope="module")
def db(pg_available: None) -> Iterator[str]:
    with own_database() as url:
        yield url


@pytest.fixture(scope="module")
def client(db: str, mqtt_url: str) -> Iterator[TestClient]:
    app = app_for(database_url=db, mqtt_url=mqtt_url, webhook_interval_s=None, stream_poll_s=0.05)
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def world(db: str) -> dict[str, Any]:
    collector, collector_token = add_user(db, "collector")
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO webhook_subscriptions (url, secret, kinds, min_severity, created_by)"
            " VALUES ('https://hooks.example/lw', 's', '{}', 'info', 'admin')"
        )
    return {
        "tokens": {
            "collector": collector_token,
            "supervisor": add_user(db, "supervisor")[1],
            "admin": add_user(db, "admin")[1],
        },
        "current": _car(db, "current", dpd=0, collector=collector),
        "overdue": _car(db, "overdue", dpd=45, collector=collector),
    }


def _calls(client: TestClient, car: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(operation path, URL, query) for every GET operation, parameters filled in for this car."""
    values = {"alert_id": car["alert_id"], "vin": car["vin"], "loan_id": car["loan_id"], "fence_id": car["fence_id"]}
    query = {
        "purpose": "location masking check",
        "start": (NOW - timedelta(days=4)).isoformat(),
        "end": (NOW + timedelta(hours=1)).isoformat(),
        "timeout_s": 0.2,
    }
    calls = []
    for path, operations in client.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        if "get" not in operations:
            continue
        names = re.findall(r"{(\w+)}", path)
        missing = [n for n in names if n not in values]
        assert not missing, f"{path}: the walk does not know how to fill {missing}; add it"
        url = path.format(**{n: values[n] for n in names})
        wanted = {p["name"] for p in operations["get"].get("parameters", []) if p["in"] == "query"}
        calls.append((path, url, {k: v for k, v in query.items() if k in wanted}))
    return calls


def _walk(client: TestClient, world: dict[str, Any], which: str) -> tuple[dict[str, set[str]], set[str]]:
    """Secrets of that car found per (role, operation), and the operations some role was served (2xx)."""
    car = world[which]
    found: dict[str, set[str]] = {}
    served: set[str] = set()
    for role, token in world["tokens"].items():
        for path, url, query in _calls(client, car):
            for variant in ({}, {"format": "csv"}) if path.endswith("/track") else ({},):
                response = client.get(url, params=query | variant, headers=auth(token))
                if response.is_success:
                    served.add(path)
                if leaks := _leaks(response.text, which):
                    found[f"{role} GET {url} {variant}"] = leaks
    return found, served


def test_no_endpoint_shows_a_current_loans_precise_location(client: TestClient, world: dict[str, Any]) -> None:
    found, served = _walk(client, world, "current")
    assert found == {}
    every = {p for p, ops in client.app.openapi()["paths"].items() if "get" in ops}  # type: ignore[attr-defined]
    # The track is refused for a current loan (the delinquent walk below is served it); /metrics
    # answers loopback or its own token only, and holds counters, no location.
    assert every - served <= {"/api/v1/vehicles/{vin}/track", "/metrics"}


def test_a_delinquent_loans_precise_location_is_shown_where_it_belongs(
    client: TestClient, world: dict[str, Any]
) -> None:
    """The control: the same walk over a delinquent loan finds the coordinates, so the search works."""
    found, served = _walk(client, world, "overdue")
    car = world["overdue"]
    collector = {k.split(" ", 1)[1] for k in found if k.startswith("collector ")}
    assert f"GET /api/v1/alerts/{car['alert_id']} {{}}" in collector  # evidence and history
    assert f"GET /api/v1/loans/{car['loan_id']} {{}}" in collector  # the home point
    assert f"GET /api/v1/vehicles/{car['vin']} {{}}" in collector  # the last fix
    assert f"GET /api/v1/vehicles/{car['vin']}/track {{'format': 'csv'}}" in collector
    assert f"GET /api/v1/fences/{car['fence_id']} {{}}" in collector  # the home fence
    assert "/api/v1/vehicles/{vin}/track" in served


def test_alert_history_is_masked_like_its_evidence(client: TestClient, world: dict[str, Any]) -> None:
    car = world["current"]
    body = client.get(
        f"/api/v1/alerts/{car['alert_id']}", params={"purpose": "review"}, headers=auth(world["tokens"]["collector"])
    ).json()
    assert body["precise_location"] is False
    (opened,) = [h for h in body["history"] if h["event"] == "open"]
    assert opened["data"]["home"] == {"lat": 31.2, "lon": 121.5, "nights": 3}
    assert opened["data"]["fence"]["geometry"]["coordinates"] == [121.5, 31.2]


def test_the_live_stream_and_webhooks_carry_no_precise_coordinate(
    client: TestClient, world: dict[str, Any], db: str
) -> None:
    car = world["current"]

    def refresh() -> None:
        with psycopg.connect(db, autocommit=True) as conn, conn.transaction():
            upsert(conn, car["draft"])
            webhooks.enqueue_alert_event(conn, car["alert_id"], "alert.updated")

    timer = threading.Timer(0.3, refresh)
    timer.start()
    try:
        response = client.get(
            "/api/v1/alerts/stream",
            params={"timeout_s": 5, "limit": 1, "kind": "relocation"},
            headers=auth(world["tokens"]["collector"]),
        )
    finally:
        timer.join()
    assert "event: alert" in response.text and _leaks(response.text) == set()
    with psycopg.connect(db) as conn:
        payloads = [str(p) for (p,) in conn.execute("SELECT payload FROM webhook_deliveries").fetchall()]
    assert payloads and all(_leaks(p) == set() for p in payloads)


@pytest.mark.parametrize(("which", "precise"), [("current", False), ("overdue", True)])
def test_lienwatch_home_prints_coordinates_under_the_same_rule_and_audits(
    world: dict[str, Any], db: str, monkeypatch: pytest.MonkeyPatch, which: str, precise: bool
) -> None:
    monkeypatch.setenv("LIENWATCH_DATABASE_URL", db)
    vin = world[which]["vin"]
    result = CliRunner().invoke(cli_app, ["home", vin, "--purpose", "home check"])
    assert result.exit_code == 0, result.output
    assert "home of" in result.output
    assert bool(_leaks(result.output, which)) is precise
    with psycopg.connect(db) as conn:
        rows = conn.execute(
            "SELECT purpose, detail->>'precise' FROM audit_log WHERE action = 'home_read' AND subject_id = %s", (vin,)
        ).fetchall()
    assert rows == [("home check", str(precise).lower())]
