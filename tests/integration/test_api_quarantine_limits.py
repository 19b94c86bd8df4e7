"""A quarantine replay through the API decodes under the configured limits, as the ingestor does,
not the decoder's defaults: a message too large for the configured limit stays refused."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient

from lienwatch.api_wiring import configured_app
from lienwatch.settings import Settings
from storage import quarantine
from storage.quarantine import QuarantineRow
from tests.support.api_harness import add_loan, add_user, auth, own_database, unique

pytestmark = pytest.mark.db

LIMIT = 256  # the smallest the settings allow; the decoder's default is 64 KiB


@pytest.fixture(scope="module")
def db(pg_available: None) -> Iterator[str]:
    with own_database() as url:
        yield url


def test_replay_refuses_a_payload_over_the_configured_limit(db: str, mqtt_url: str) -> None:
    settings = Settings(max_payload_bytes=LIMIT)
    app = configured_app(settings, database_url=db, mqtt_url=mqtt_url, webhook_interval_s=None)
    device = unique("big")
    now = datetime.now(UTC)
    body = {"ts": (now - timedelta(minutes=3)).isoformat(), "lat": 31.2, "lon": 121.4, "note": "x" * LIMIT}
    payload = json.dumps(body).encode()
    assert len(payload) > LIMIT
    _, vin = add_loan(db)
    with psycopg.connect(db, autocommit=True) as conn:
        row = QuarantineRow(now, f"trackers/{device}/position", payload, "unknown_device", "", device)
        quarantine.insert(conn, [row])
        conn.execute("INSERT INTO devices (device_id, kind, vin) VALUES (%s, 'wired', %s)", (device, vin))
    admin = auth(add_user(db, "admin")[1])
    with TestClient(app) as client:
        report = client.post("/api/v1/quarantine/replay", json={"reason": "unknown_device"}, headers=admin).json()
    assert report["replayed"] == 0 and report["still_refused"] == {"too_large": 1}
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM positions WHERE device_id = %s", (device,)).fetchone() == (0,)
