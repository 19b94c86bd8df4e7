"""The authorisation matrix: every role against every endpoint family, and authentication failures."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.auth import ACCESS, Family, Role
from lienwatch.api_wiring import app_for
from tests.support.api_harness import add_alert, add_device, add_loan, add_user, auth, own_database, unique

pytestmark = [pytest.mark.db, pytest.mark.mqtt]


@pytest.fixture(scope="module")
def db(pg_available: None) -> Iterator[str]:
    with own_database() as url:
        yield url


Request = tuple[str, str, dict[str, Any]]


@pytest.fixture(scope="module")
def world(db: str, mqtt_url: str) -> Iterator[dict[str, Any]]:
    users = {role: add_user(db, role.value) for role in Role}
    collector = users[Role.COLLECTOR][0]
    loan_id, vin = add_loan(db, dpd=10, collector=collector)
    add_device(db, vin)
    alert_id = add_alert(db, loan_id, vin)
    app = app_for(database_url=db, mqtt_url=mqtt_url, webhook_interval_s=None)
    with TestClient(app) as client:
        yield {"client": client, "users": users, "loan_id": loan_id, "vin": vin, "alert_id": alert_id}


CIRCLE = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [121.47, 31.23]},
    "properties": {"name": "pawn shop", "kind": "risk_zone", "radius_m": 150},
}

REQUESTS: dict[Family, Callable[[dict[str, Any]], Request]] = {
    Family.ALERTS_READ: lambda w: ("GET", "/api/v1/alerts", {}),
    Family.ALERTS_WORK: lambda w: (
        "POST",
        f"/api/v1/alerts/{w['alert_id']}/transitions",
        {"json": {"event": "acknowledge"}},
    ),
    Family.ALERTS_ASSIGN: lambda w: (
        "POST",
        f"/api/v1/alerts/{w['alert_id']}/transitions",
        {"json": {"event": "assign", "assignee": w["users"][Role.COLLECTOR][0]}},
    ),
    Family.VEHICLES: lambda w: ("GET", f"/api/v1/vehicles/{w['vin']}", {"params": {"purpose": "matrix"}}),
    Family.LOANS_READ: lambda w: ("GET", f"/api/v1/loans/{w['loan_id']}", {}),
    Family.LOANS_WRITE: lambda w: ("PUT", f"/api/v1/loans/{unique('L')}", {"json": {"vin": unique("VIN")}}),
    Family.LOANS_HOLDS: lambda w: (
        "POST",
        f"/api/v1/loans/{w['loan_id']}/holds",
        {"json": {"kind": "dispute", "note": "matrix"}},
    ),
    Family.LOANS_ASSIGN: lambda w: (
        "PUT",
        f"/api/v1/loans/{w['loan_id']}/assignment",
        {"json": {"collector": w["users"][Role.COLLECTOR][0]}},
    ),
    Family.DEVICES_READ: lambda w: ("GET", "/api/v1/devices", {}),
    Family.DEVICES_WRITE: lambda w: ("PUT", f"/api/v1/devices/{unique('dev')}", {"json": {"kind": "wireless"}}),
    Family.COMMANDS: lambda w: (
        "POST",
        f"/api/v1/devices/{unique('nodev')}/commands",
        {"json": {"command": "locate", "purpose": "matrix"}},
    ),
    Family.FENCES_READ: lambda w: ("GET", "/api/v1/fences", {}),
    Family.FENCES_WRITE: lambda w: ("POST", "/api/v1/fences", {"json": CIRCLE}),
    Family.QUARANTINE: lambda w: ("GET", "/api/v1/quarantine", {}),
    Family.PORTFOLIO: lambda w: ("GET", "/api/v1/portfolio/stats", {}),
    Family.AUDIT: lambda w: ("GET", "/api/v1/audit", {}),
    Family.WEBHOOKS: lambda w: ("GET", "/api/v1/webhooks", {}),
}


def test_every_family_has_a_request_in_the_matrix() -> None:
    assert set(REQUESTS) == set(Family)


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("family", list(Family), ids=lambda f: f.value)
def test_role_against_family(world: dict[str, Any], role: Role, family: Family) -> None:
    method, path, kwargs = REQUESTS[family](world)
    response = world["client"].request(method, path, headers=auth(world["users"][role][1]), **kwargs)
    if role in ACCESS[family]:
        assert response.status_code not in (401, 403), response.text
        assert response.status_code < 500, response.text
    else:
        assert response.status_code == 403, response.text
        assert response.headers["content-type"] == "application/problem+json"
        # Assigning is an alert transition: a role without alerts.work is stopped there first.
        gates = {family.value} | ({Family.ALERTS_WORK.value} if family == Family.ALERTS_ASSIGN else set())
        assert response.json()["family"] in gates
        assert response.json()["detail"] == f"role {role.value!r} may not use {response.json()['family']}"


def test_no_token_and_a_wrong_token_are_401_problems(world: dict[str, Any]) -> None:
    client: TestClient = world["client"]
    missing = client.get("/api/v1/alerts")
    wrong = client.get("/api/v1/alerts", headers=auth("not-a-token"))
    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["status"] == 401
    assert "unknown, expired or revoked" in wrong.json()["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/alerts?limit=0&kind=nonsense",  # the queue: its session is opened in the endpoint
        "/api/v1/vehicles/V1/track?start=yesterday&end=x",  # the track: likewise
        "/api/v1/alerts/0",  # one alert: a path below its lower bound
        "/api/v1/loans?limit=-1",  # an endpoint on the Conn + require dependencies
    ],
)
def test_without_a_token_bad_parameters_are_not_judged(world: dict[str, Any], path: str) -> None:
    response = world["client"].get(path)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"


def test_collector_cannot_read_another_collectors_loan_vehicle_or_alert(world: dict[str, Any]) -> None:
    client: TestClient = world["client"]
    _, other = add_user(client.app.state.database_url, "collector")  # type: ignore[attr-defined]
    headers = auth(other)
    assert client.get(f"/api/v1/loans/{world['loan_id']}", headers=headers).status_code == 404
    assert (
        client.get(f"/api/v1/vehicles/{world['vin']}", params={"purpose": "x-check"}, headers=headers).status_code
        == 404
    )
    assert (
        client.get(f"/api/v1/alerts/{world['alert_id']}", params={"purpose": "x-check"}, headers=headers).status_code
        == 404
    )
    assert client.get("/api/v1/alerts", headers=headers).json()["items"] == []
    assert client.get("/api/v1/loans", headers=headers).json()["items"] == []
    own = client.get(f"/api/v1/loans/{world['loan_id']}", headers=auth(world["users"][Role.COLLECTOR][1]))
    assert own.status_code == 200 and own.json()["plate"] == "京A12345"


def test_identity_is_masked_for_the_loan_system(world: dict[str, Any]) -> None:
    client: TestClient = world["client"]
    body = client.get(f"/api/v1/loans/{world['loan_id']}", headers=auth(world["users"][Role.INTEGRATION][1])).json()
    assert body["plate"] == "京*****5"
    assert body["borrower_name"] == "Z***********g"


def test_unknown_route_and_method_are_problems(world: dict[str, Any]) -> None:
    client: TestClient = world["client"]
    assert client.get("/api/v1/nothing-here").headers["content-type"] == "application/problem+json"
    wrong_method = client.patch("/api/v1/alerts")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["title"] == "Method not allowed"


def test_health_and_readiness_need_no_token(world: dict[str, Any]) -> None:
    client: TestClient = world["client"]
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": True, "broker": True}


def test_metrics_are_served_on_loopback_or_with_the_metrics_token(db: str, mqtt_url: str) -> None:
    token = "m" * 24
    app = app_for(database_url=db, mqtt_url=mqtt_url, webhook_interval_s=None, metrics_token=token)
    with TestClient(app, client=("127.0.0.1", 50000)) as local:
        local.get("/api/v1/alerts")  # a 401, counted like any other response
        metrics = local.get("/metrics")
        assert metrics.status_code == 200
        assert 'lienwatch_api_requests_total{method="GET",status="401"}' in metrics.text
    with TestClient(app, client=("203.0.113.9", 50000)) as remote:
        assert remote.get("/metrics").status_code == 403
        assert remote.get("/metrics", headers=auth("wrong-" + token)).status_code == 403
        assert remote.get("/metrics", headers=auth(token)).status_code == 200
    untokened = app_for(database_url=db, mqtt_url=mqtt_url, webhook_interval_s=None)
    with TestClient(untokened, client=("203.0.113.9", 50000)) as remote:
        assert remote.get("/metrics", headers=auth("")).status_code == 403


def test_an_oversized_body_without_a_token_is_413_before_authentication(world: dict[str, Any]) -> None:
    client: TestClient = world["client"]
    big = b"{" + b" " * (5 * 1024 * 1024) + b"}"  # over the default 4 MiB
    response = client.post("/api/v1/fences", content=big, headers={"Content-Type": "application/json"})
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    # A bulk import has a larger limit of its own: the same body reaches authentication there.
    bulk = client.post("/api/v1/loans/bulk", content=big, headers={"Content-Type": "application/json"})
    assert bulk.status_code == 401


def test_location_reads_and_failed_authentication_are_rate_limited(db: str, mqtt_url: str) -> None:
    ana, token = add_user(db, "collector")
    _, other = add_user(db, "collector")
    _, vin = add_loan(db, dpd=10, collector=ana)
    app = app_for(
        database_url=db,
        mqtt_url=mqtt_url,
        webhook_interval_s=None,
        location_reads_per_minute=3,
        auth_failures_per_minute=3,
    )
    with TestClient(app) as client:
        read = [
            client.get(f"/api/v1/vehicles/{vin}", params={"purpose": "chase"}, headers=auth(token)) for _ in range(4)
        ]
        assert [r.status_code for r in read] == [200, 200, 200, 429]
        assert read[3].headers["content-type"] == "application/problem+json"
        assert 1 <= int(read[3].headers["retry-after"]) <= 20
        # Per principal: another collector's reads are not held back (a 404: not their loan).
        assert (
            client.get(f"/api/v1/vehicles/{vin}", params={"purpose": "x-check"}, headers=auth(other)).status_code == 404
        )
        # The queue is not a location read.
        assert client.get("/api/v1/alerts", headers=auth(token)).status_code == 200

        failed = [client.get("/api/v1/alerts", headers=auth(f"guess-{n}")).status_code for n in range(4)]
        assert failed == [401, 401, 401, 429]
        blocked = client.get("/api/v1/alerts", headers=auth(token))  # the address is blocked, whatever the token
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
