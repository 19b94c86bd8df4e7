"""The alert work queue: filters, priority order, cursor pages, legal holds, evidence, history,
transitions (with their webhook outbox rows) and the live stream, all scoped to the caller."""

import json
import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from lienwatch.api_wiring import app_for
from storage import webhooks
from tests.support.api_harness import add_alert, add_loan, add_user, auth, own_database

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def db(pg_available: None) -> Iterator[str]:
    with own_database() as url:
        yield url


@pytest.fixture(scope="module")
def client(db: str, mqtt_url: str) -> Iterator[TestClient]:
    app = app_for(database_url=db, mqtt_url=mqtt_url, webhook_interval_s=None, stream_poll_s=0.05)
    with TestClient(app) as c:
        yield c


@pytest.fixture
def desk(db: str) -> dict[str, Any]:
    """A collector with three loans (M0, M2, M3+) and alerts on them; one loan under a legal hold."""
    name, token = add_user(db, "collector")
    m0, vin0 = add_loan(db, dpd=0, collector=name)
    m2, vin2 = add_loan(db, dpd=45, collector=name)
    m3, vin3 = add_loan(db, dpd=120, collector=name)
    ids = {
        "idle_m0": add_alert(db, m0, vin0, kind="long_idle", severity="low", priority=0.4),
        "zone_m2": add_alert(db, m2, vin2, kind="risk_zone_dwell", severity="high", priority=6.0),
        "cut_m3": add_alert(db, m3, vin3, kind="power_cut", severity="critical", priority=9.5),
        "held_m3": add_alert(db, m3, vin3, kind="relocation", severity="high", priority=8.0, hold_reason="bankruptcy"),
    }
    return {"name": name, "token": token, "loans": {"m0": m0, "m2": m2, "m3": m3}, "ids": ids}


def _list(client: TestClient, token: str, **params: Any) -> Any:
    response = client.get("/api/v1/alerts", params=params, headers=auth(token))
    assert response.status_code == 200, response.text
    return response.json()


def test_queue_is_by_priority_and_leaves_held_alerts_out(client: TestClient, desk: dict[str, Any]) -> None:
    ids = desk["ids"]
    items = _list(client, desk["token"])["items"]
    assert [a["alert_id"] for a in items] == [ids["cut_m3"], ids["zone_m2"], ids["idle_m0"]]
    assert items[0]["bucket"] == "M3+" and items[0]["days_past_due"] == 120
    held = _list(client, desk["token"], held="only")["items"]
    assert [(a["alert_id"], a["hold_reason"]) for a in held] == [(ids["held_m3"], "bankruptcy")]
    assert len(_list(client, desk["token"], held="include")["items"]) == 4


def test_filters(client: TestClient, desk: dict[str, Any]) -> None:
    ids, token = desk["ids"], desk["token"]
    assert [a["alert_id"] for a in _list(client, token, kind="power_cut")["items"]] == [ids["cut_m3"]]
    assert [a["alert_id"] for a in _list(client, token, bucket=["M0", "M2"])["items"]] == [
        ids["zone_m2"],
        ids["idle_m0"],
    ]
    assert [a["alert_id"] for a in _list(client, token, severity="low")["items"]] == [ids["idle_m0"]]
    assert [a["alert_id"] for a in _list(client, token, loan_id=desk["loans"]["m2"])["items"]] == [ids["zone_m2"]]
    assert _list(client, token, status="resolved")["items"] == []
    assert _list(client, token, opened_from="2999-01-01T00:00:00Z")["items"] == []
    bad = client.get("/api/v1/alerts", params={"kind": "ufo"}, headers=auth(token))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.kind.0"


def test_cursor_pages_cover_the_queue_once(client: TestClient, desk: dict[str, Any]) -> None:
    token, seen, cursor = desk["token"], [], None
    while True:
        page = _list(client, token, limit=1, held="include", **({"cursor": cursor} if cursor else {}))
        seen += [a["alert_id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    ids = desk["ids"]
    assert seen == [ids["cut_m3"], ids["held_m3"], ids["zone_m2"], ids["idle_m0"]]
    garbage = client.get("/api/v1/alerts", params={"cursor": "%%%"}, headers=auth(token))
    assert garbage.status_code == 422 and garbage.json()["field"] == "cursor"


def test_evidence_is_rounded_for_a_current_loan_and_precise_for_a_delinquent_one(
    client: TestClient, desk: dict[str, Any], db: str
) -> None:
    token, ids = desk["token"], desk["ids"]
    current = client.get(
        f"/api/v1/alerts/{ids['idle_m0']}", params={"purpose": "alert review"}, headers=auth(token)
    ).json()
    assert current["precise_location"] is False
    assert current["evidence"]["fixes"] == [{"lat": 31.2, "lon": 121.5}]
    assert [h["event"] for h in current["history"]] == ["open"]
    late = client.get(f"/api/v1/alerts/{ids['zone_m2']}", params={"purpose": "triage"}, headers=auth(token)).json()
    assert late["evidence"]["fixes"] == [{"lat": 31.230416, "lon": 121.473701}]
    with psycopg.connect(db) as conn:
        audited = conn.execute(
            "SELECT subject_id, purpose FROM audit_log WHERE actor = %s AND action = 'alert_evidence_read' "
            "ORDER BY audit_id",
            (desk["name"],),
        ).fetchall()
    assert audited == [(str(ids["idle_m0"]), "alert review"), (str(ids["zone_m2"]), "triage")]


def test_transitions_write_history_and_queue_webhook_events(client: TestClient, desk: dict[str, Any], db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        webhooks.subscribe(
            conn, url="http://127.0.0.1:9/", secret="x" * 20, kinds=["risk_zone_dwell"], min_severity="high", actor="t"
        )
    alert_id, token = desk["ids"]["zone_m2"], desk["token"]
    _, boss = add_user(db, "supervisor")
    path = f"/api/v1/alerts/{alert_id}/transitions"
    assert client.post(path, json={"event": "acknowledge"}, headers=auth(token)).json()["status"] == "acknowledged"
    denied = client.post(path, json={"event": "assign", "assignee": desk["name"]}, headers=auth(token))
    assert denied.status_code == 403
    assigned = client.post(path, json={"event": "assign", "assignee": desk["name"]}, headers=auth(boss)).json()
    assert (assigned["status"], assigned["assignee"]) == ("assigned", desk["name"])
    no_disposition = client.post(path, json={"event": "resolve"}, headers=auth(token))
    assert no_disposition.status_code == 409 and "disposition is required" in no_disposition.json()["detail"]
    done = client.post(
        path, json={"event": "resolve", "disposition": "confirmed", "note": "car recovered"}, headers=auth(token)
    ).json()
    assert (done["status"], done["disposition"], done["close_reason"]) == ("resolved", "confirmed", "car recovered")
    again = client.post(path, json={"event": "acknowledge"}, headers=auth(token))
    assert again.status_code == 409 and again.json()["state"] == "resolved"
    history = client.get(f"/api/v1/alerts/{alert_id}", params={"purpose": "review"}, headers=auth(token)).json()[
        "history"
    ]
    assert [(h["event"], h["to_status"]) for h in history] == [
        ("open", "open"),
        ("acknowledge", "acknowledged"),
        ("assign", "assigned"),
        ("resolve", "resolved"),
    ]
    with psycopg.connect(db) as conn:
        queued = [d["event"] for d in webhooks.deliveries(conn, alert_id=alert_id)]
    assert queued == ["alert.acknowledge", "alert.assign", "alert.resolve"]


def test_stream_sends_changes_in_scope_only(client: TestClient, desk: dict[str, Any], db: str) -> None:
    _, stranger = add_user(db, "collector")
    nothing = client.get("/api/v1/alerts/stream", params={"timeout_s": 0.3}, headers=auth(stranger))
    assert nothing.status_code == 200 and "event: alert" not in nothing.text
    mine = client.get("/api/v1/alerts/stream", params={"timeout_s": 5, "limit": 2}, headers=auth(desk["token"]))
    assert mine.headers["content-type"].startswith("text/event-stream")
    events = [json.loads(line[len("data: ") :]) for line in mine.text.splitlines() if line.startswith("data: ")]
    # The desk's alerts were written moments ago, inside the stream's look-back window.
    assert len(events) == 2 and {e["loan_id"] for e in events} <= set(desk["loans"].values())
    assert all(e["hold_reason"] is None for e in events)


def test_stream_delivers_an_alert_opened_while_it_is_connected(
    client: TestClient, desk: dict[str, Any], db: str
) -> None:
    loan = desk["loans"]["m2"]
    opener = threading.Timer(0.5, lambda: add_alert(db, loan, None, kind="tow", severity="high"))
    opener.start()
    try:
        response = client.get(
            "/api/v1/alerts/stream", params={"timeout_s": 10, "limit": 1, "kind": "tow"}, headers=auth(desk["token"])
        )
    finally:
        opener.join()
    (data,) = [line for line in response.text.splitlines() if line.startswith("data: ")]
    event = json.loads(data[len("data: ") :])
    assert (event["kind"], event["loan_id"], event["status"]) == ("tow", loan, "open")


def test_a_hold_placed_through_the_api_takes_the_loan_out_of_the_queue_at_once(
    client: TestClient, desk: dict[str, Any], db: str
) -> None:
    admin = auth(add_user(db, "admin")[1])
    loan, token = desk["loans"]["m2"], desk["token"]
    placed = client.post(
        f"/api/v1/loans/{loan}/holds", json={"kind": "promise_to_pay", "until": "2999-01-31"}, headers=admin
    )
    assert placed.status_code == 201
    assert desk["ids"]["zone_m2"] not in [a["alert_id"] for a in _list(client, token)["items"]]
    held = {a["alert_id"]: a["hold_reason"] for a in _list(client, token, held="only")["items"]}
    assert held[desk["ids"]["zone_m2"]] == "legal hold: promise_to_pay until 2999-01-31"
    client.delete(f"/api/v1/loans/{loan}/holds/{placed.json()['hold_id']}", headers=admin)
    assert desk["ids"]["zone_m2"] in [a["alert_id"] for a in _list(client, token)["items"]]


def test_an_alert_without_a_loan_is_in_the_supervisors_queue(client: TestClient, db: str) -> None:
    _, token = add_user(db, "supervisor")
    with psycopg.connect(db, autocommit=True) as conn:
        row = conn.execute(
            """
            INSERT INTO alerts (kind, severity, subject, status, priority, opened_at, last_seen_at)
            VALUES ('tamper', 'high', 'unbound-device', 'open', 1e9, now(), now()) RETURNING alert_id
            """
        ).fetchone()
    assert row is not None
    first = _list(client, token, limit=1)["items"][0]
    assert (first["alert_id"], first["loan_id"], first["hold_reason"]) == (row[0], None, None)
    assert row[0] not in [a["alert_id"] for a in _list(client, token, held="only")["items"]]


def test_alerts_on_repossessed_cars_are_information_only(client: TestClient, db: str) -> None:
    name, token = add_user(db, "collector")
    loan, vin = add_loan(db, dpd=95, collector=name, status="repossessed")
    alert_id = add_alert(db, loan, vin, kind="long_idle", severity="info", priority=0.0)
    assert _list(client, token)["items"] == []
    (held,) = _list(client, token, held="only")["items"]
    assert (held["alert_id"], held["hold_reason"]) == (alert_id, "repossessed: information only")
