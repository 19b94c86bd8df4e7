"""schemathesis against the OpenAPI schema, as an admin: no input, valid or not, makes the server fail (5xx).

Examples are few per operation so the run stays near a minute; the live stream is left out
(it holds the connection open by design).
"""

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.python import asgi

from api.app import create_app
from tests.support.api_harness import add_alert, add_device, add_loan, add_user, auth, own_database

pytestmark = [pytest.mark.db, pytest.mark.mqtt, pytest.mark.slow]

EXAMPLES = 15


@pytest.fixture
def own_db(pg_available: None) -> Iterator[str]:
    """A database of this test's own: what the generated requests create (webhook subscriptions to
    made-up URLs among them) must not reach the other tests' workers."""
    with own_database() as url:
        yield url


def test_no_server_error(own_db: str, mqtt_url: str) -> None:
    loan_id, vin = add_loan(own_db, dpd=40)
    add_device(own_db, vin)
    add_alert(own_db, loan_id, vin, kind="tamper", severity="high")
    admin_headers = auth(add_user(own_db, "admin")[1])
    # The real broker, so /readyz is ready; generated device ids are unregistered, so no command goes out.
    app = create_app(database_url=own_db, mqtt_url=mqtt_url, webhook_interval_s=None)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    tried = []
    try:
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.path == "/api/v1/alerts/stream":
                continue
            tried.append(f"{operation.method.upper()} {operation.path}")

            @given(case=operation.as_strategy() | operation.as_strategy(GenerationMode.NEGATIVE))
            @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            def no_5xx(case: Any) -> None:
                response = case.call(headers=admin_headers)
                assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"

            no_5xx()
    finally:
        asgi.shutdown_lifespans()
    assert len(tried) >= 30  # every operation but the stream was exercised
