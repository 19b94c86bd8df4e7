"""`lienwatch api` as an operator starts it: refused on a database with pending migrations, and with
`--workers 2` two server processes on one port, each building its app from the environment."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from lienwatch.embedded import free_port
from tests.support.api_harness import add_alert, add_loan, add_user, auth, own_database


@pytest.fixture(scope="module")
def db(pg_available: None) -> Iterator[str]:
    with own_database() as url:
        yield url


def test_two_worker_processes_serve_the_queue(db: str, mqtt_url: str) -> None:
    _, token = add_user(db, "supervisor")
    loan_id, vin = add_loan(db, dpd=75)
    alert_id = add_alert(db, loan_id=loan_id, vin=vin)
    port = free_port()
    env = {**os.environ, "LIENWATCH_DATABASE_URL": db, "LIENWATCH_MQTT_URL": mqtt_url}
    server = subprocess.Popen(
        [sys.executable, "-m", "lienwatch", "api", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("the API did not come up")
        # New connections are spread over the processes; every one sees the same queue.
        for _ in range(20):
            with httpx.Client(base_url=base, headers=auth(token)) as http:
                page = http.get("/api/v1/alerts", params={"loan_id": loan_id})
                assert page.status_code == 200
                assert [a["alert_id"] for a in page.json()["items"]] == [alert_id]
                assert http.get("/api/v1/alerts").status_code == 200
        assert httpx.get(f"{base}/api/v1/alerts").status_code == 401
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert err.decode().count("Started server process") == 2


def test_the_api_refuses_a_database_with_pending_migrations(fresh_db: str, mqtt_url: str) -> None:
    env = {**os.environ, "LIENWATCH_DATABASE_URL": fresh_db, "LIENWATCH_MQTT_URL": mqtt_url}
    done = subprocess.run(
        [sys.executable, "-m", "lienwatch", "api", "--port", str(free_port())],
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 1
    out = " ".join(done.stdout.decode().split())
    assert "pending migrations (0001" in out and "lienwatch db migrate" in out
