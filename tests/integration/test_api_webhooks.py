"""Webhook delivery through the outbox: the receiver is down, the app restarts, the receiver comes
up, and every delivery arrives once, signed, with each attempt recorded."""

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api import signing
from api.delivery import Backoff
from api.targets import AllowList
from lienwatch.api_wiring import app_for
from storage import webhooks
from tests.support.api_harness import add_alert, add_loan, add_user, auth, own_database

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def db(pg_available: None) -> Iterator[str]:
    with own_database() as url:
        yield url


FAST = Backoff(base_s=0.1, cap_s=0.4, max_attempts=100)
# The local receiver is an internal address: an operator's allow-list has to name it.
LOCAL = AllowList.parse("127.0.0.1")


class Receiver:
    """A tiny HTTP server on 127.0.0.1 that keeps every request it gets."""

    def __init__(self, port: int) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((dict(self.headers.items()), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def free_port() -> Iterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    yield port


def _wait(predicate: Any, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _attempts(db: str, delivery_ids: list[int]) -> dict[int, list[tuple[int | None, str | None]]]:
    with psycopg.connect(db) as conn:
        rows = conn.execute(
            "SELECT delivery_id, status_code, error FROM webhook_attempts WHERE delivery_id = ANY(%s) "
            "ORDER BY attempt_id",
            (delivery_ids,),
        ).fetchall()
    found: dict[int, list[tuple[int | None, str | None]]] = {d: [] for d in delivery_ids}
    for delivery_id, status, error in rows:
        found[delivery_id].append((status, error))
    return found


def test_receiver_down_then_up_across_a_restart_gets_every_delivery_signed(
    db: str, mqtt_url: str, free_port: int
) -> None:
    _, token = add_user(db, "integration")
    url = f"http://127.0.0.1:{free_port}/hook"

    def app() -> TestClient:
        return TestClient(
            app_for(
                database_url=db, mqtt_url=mqtt_url, webhook_interval_s=0.05, webhook_backoff=FAST, webhook_allow=LOCAL
            )
        )

    with app() as client:
        made = client.post("/api/v1/webhooks", json={"url": url, "kinds": ["jamming"]}, headers=auth(token))
        assert made.status_code == 201
        secret, subscription = made.json()["secret"], made.json()["subscription_id"]
        alert_ids = []
        with psycopg.connect(db, autocommit=True) as conn:
            for _ in range(3):
                loan_id, vin = add_loan(db, dpd=20)
                alert_id = add_alert(db, loan_id, vin, kind="jamming", severity="high")
                with conn.transaction():  # as the alert engine does, with its alert change
                    assert webhooks.enqueue_alert_event(conn, alert_id, "alert.opened") >= 1
                alert_ids.append(alert_id)
            deliveries = [
                d["delivery_id"]
                for a in alert_ids
                for d in webhooks.deliveries(conn, alert_id=a)
                if d["subscription_id"] == subscription
            ]
        assert len(deliveries) == 3
        _wait(lambda: all(len(a) >= 2 for a in _attempts(db, deliveries).values()))
    # The app is gone (a restart); nothing was delivered, nothing is lost.
    for attempts in _attempts(db, deliveries).values():
        assert all(status is None and error and "Connection refused" in error for status, error in attempts), attempts

    with Receiver(free_port) as receiver, app():
        _wait(lambda: len(receiver.received) >= 3)
        time.sleep(0.3)  # room for a duplicate to show up, if the worker sent one

    assert sorted(int(h["X-Lienwatch-Delivery"]) for h, _ in receiver.received) == sorted(deliveries)
    now = int(time.time())
    for headers, body in receiver.received:
        assert signing.verify(secret, headers[signing.HEADER], body, now=now)
        assert not signing.verify("x" * 32, headers[signing.HEADER], body, now=now)
        payload = json.loads(body)
        assert payload["event"] == headers["X-Lienwatch-Event"] == "alert.opened"
        assert payload["alert"]["alert_id"] in alert_ids and payload["alert"]["kind"] == "jamming"
    with psycopg.connect(db) as conn:
        states = {
            d["delivery_id"]: d["status"]
            for a in alert_ids
            for d in webhooks.deliveries(conn, alert_id=a)
            if d["subscription_id"] == subscription
        }
    assert set(states.values()) == {"delivered"}
    for attempts in _attempts(db, deliveries).values():
        assert attempts[-1] == (204, None)


def test_subscription_filters_by_kind_and_severity(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        sub = webhooks.subscribe(
            conn, url="http://127.0.0.1:9/", secret="s" * 20, kinds=["gps_jump"], min_severity="medium", actor="t"
        )
        loan_id, vin = add_loan(db, dpd=1)
        low = add_alert(db, loan_id, vin, kind="gps_jump", severity="low")
        medium = add_alert(db, loan_id, vin, kind="gps_jump", severity="medium", subject="dev-2")
        with conn.transaction():
            webhooks.enqueue_alert_event(conn, low, "alert.opened")
            webhooks.enqueue_alert_event(conn, medium, "alert.opened")
        assert sub not in [d["subscription_id"] for d in webhooks.deliveries(conn, alert_id=low)]
        assert sub in [d["subscription_id"] for d in webhooks.deliveries(conn, alert_id=medium)]
        webhooks.unsubscribe(conn, sub)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://10.0.0.5/hook",
        "http://192.168.1.1/hook",
        "http://172.16.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_internal_webhook_targets_are_refused_unless_allowed(db: str, mqtt_url: str, url: str) -> None:
    _, token = add_user(db, "integration")
    with TestClient(app_for(database_url=db, mqtt_url=mqtt_url, webhook_interval_s=None)) as client:
        refused = client.post("/api/v1/webhooks", json={"url": url}, headers=auth(token))
        public = client.post("/api/v1/webhooks", json={"url": "http://93.184.216.34/hook"}, headers=auth(token))
    assert refused.status_code == 422, refused.text
    assert refused.json()["field"] == "url" and "internal address" in refused.json()["detail"]
    assert public.status_code == 201
    allow = AllowList.parse(
        "localhost,127.0.0.0/8,::1,10.0.0.0/8,192.168.1.1,172.16.0.0/12,169.254.169.254,fe80::/10,0.0.0.0"
    )
    with TestClient(app_for(database_url=db, mqtt_url=mqtt_url, webhook_interval_s=None, webhook_allow=allow)) as c:
        assert c.post("/api/v1/webhooks", json={"url": url}, headers=auth(token)).status_code == 201


def test_delivery_checks_the_target_again_and_never_posts_to_an_internal_address(
    db: str, mqtt_url: str, free_port: int
) -> None:
    """A subscription whose host turned internal after it was accepted (DNS rebinding) is not posted to."""
    with psycopg.connect(db, autocommit=True) as conn:
        subscription = webhooks.subscribe(
            conn,
            url=f"http://127.0.0.1:{free_port}/hook",
            secret="s" * 20,
            kinds=["tow"],
            min_severity="info",
            actor="t",
        )
        loan_id, vin = add_loan(db, dpd=5)
        alert_id = add_alert(db, loan_id, vin, kind="tow")
        with conn.transaction():
            webhooks.enqueue_alert_event(conn, alert_id, "alert.opened")
        delivery = next(d for d in webhooks.deliveries(conn, alert_id=alert_id) if d["subscription_id"] == subscription)
    app = app_for(database_url=db, mqtt_url=mqtt_url, webhook_interval_s=0.05, webhook_backoff=FAST)
    with Receiver(free_port) as receiver, TestClient(app):
        _wait(lambda: len(_attempts(db, [delivery["delivery_id"]])[delivery["delivery_id"]]) >= 2)
    assert receiver.received == []
    status, error = _attempts(db, [delivery["delivery_id"]])[delivery["delivery_id"]][0]
    assert status is None and error is not None and "TargetRefused" in error and "internal address" in error
    with psycopg.connect(db, autocommit=True) as conn:
        webhooks.unsubscribe(conn, subscription)
