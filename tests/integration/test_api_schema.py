"""schemathesis against the OpenAPI document, as an admin, with every check it has: no input, valid
or not, makes the server fail (5xx), and every answer (status, media type, headers, body) is one
the document describes.

Each operation gets a fixed set of positive and negative examples (about 800 cases, 25 s here),
well within two minutes on two cores. Every violation of every operation is collected and
reported at once. The methods an operation does not document (schemathesis's unsupported_method
and allow_header_conformance, which its CLI tries in the coverage phase) are walked for every
path in tests/unit/test_api_methods.py.
"""

import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.python import asgi

from lienwatch.api_wiring import app_for
from tests.support.api_harness import add_alert, add_device, add_loan, add_user, auth, own_database

pytestmark = [pytest.mark.db, pytest.mark.mqtt, pytest.mark.slow]

EXAMPLES = 25

load_all_checks()
ALL_CHECKS = CHECKS.get_all()

# positive_data_acceptance expects every schema-valid request to succeed. These operations also
# check what no schema can say, and refuse with 422 naming the field: a reference to stored data
# (assigned_collector must be an enabled collector), a relation between fields (a track's end
# after its start), which fields an alert event takes (an assignee only with assign, a
# disposition only with resolve or dismiss), an amount's two decimals given as a JSON string, a
# GeoJSON geometry's shape beyond its type, a CSV body's header row, and a webhook URL that must
# resolve to an allowed public address. Every other check runs on them.
_SEMANTIC = {"positive_data_acceptance"}
EXCLUDED: dict[str, set[str]] = {
    "POST /api/v1/alerts/{alert_id}/transitions": _SEMANTIC,
    "PUT /api/v1/loans/{loan_id}": _SEMANTIC,
    "PUT /api/v1/loans/{loan_id}/assignment": _SEMANTIC,
    "POST /api/v1/loans/bulk": _SEMANTIC,
    "POST /api/v1/loans/bulk.csv": _SEMANTIC,
    "GET /api/v1/vehicles/{vin}/track": _SEMANTIC,
    "POST /api/v1/fences": _SEMANTIC,
    "PUT /api/v1/fences/{fence_id}": _SEMANTIC,
    "POST /api/v1/fences/import": _SEMANTIC,
    "POST /api/v1/webhooks": _SEMANTIC,
}


@pytest.fixture
def own_db(pg_available: None) -> Iterator[str]:
    """A database of this test's own: what the generated requests create (webhook subscriptions to
    made-up URLs among them) must not reach the other tests' workers."""
    with own_database() as url:
        yield url


def _checks_for(label: str) -> list[Any]:
    excluded = EXCLUDED.get(label, set())
    return [c for c in ALL_CHECKS if c.__name__ not in excluded]


def _shorten_stream(case: Any) -> None:
    """The stream holds the connection open until its timeout (300 s unless given): keep each
    call short, but leave a generated invalid timeout as it is."""
    query = case.query if isinstance(case.query, dict) else None
    if query is None:
        return
    given = query.get("timeout_s")
    if given is None or (isinstance(given, int | float) and not isinstance(given, bool) and 0 < given <= 3600):
        query["timeout_s"] = 0.1


def _token_is_valid(case: Any) -> bool:
    """Whether the case means to send valid credentials: a generated token is never a real one,
    so those cases are sent as the admin; a case whose headers are the negative part (no
    Authorization, or a malformed one) is sent as generated, and gets its 401."""
    component = case.meta.components.get(ParameterLocation.HEADER) if case.meta is not None else None
    return component is None or component.mode.is_positive


def _exercise(operation: Any, headers: dict[str, str], violations: dict[str, dict[str, str]]) -> int:
    """Run the operation's positive and negative examples through every applicable check; the
    number of cases sent. Violations are collected by operation and check title."""
    label = f"{operation.method.upper()} {operation.path}"
    checks = _checks_for(label)
    sent = 0

    @given(case=operation.as_strategy() | operation.as_strategy(GenerationMode.NEGATIVE))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,  # the same cases on every run: a failure in CI reproduces locally
    )
    def conforms(case: Any) -> None:
        nonlocal sent
        sent += 1
        if case.path == "/api/v1/alerts/stream":
            _shorten_stream(case)
        if case.meta is not None and case.meta.generation.mode.is_positive and isinstance(case.query, dict):
            # A cursor is an opaque token the API handed out with an earlier page: a generated
            # string is one it never handed out (422), so valid requests start at the first page.
            case.query.pop("cursor", None)
        try:
            case.call_and_validate(headers=headers if _token_is_valid(case) else None, checks=checks)
        except FailureGroup as exc:
            for failure in exc.exceptions:
                violations.setdefault(label, {}).setdefault(str(failure.title), str(exc))

    conforms()
    return sent


def test_every_operation_conforms_to_its_document(own_db: str, mqtt_url: str) -> None:
    loan_id, vin = add_loan(own_db, dpd=40)
    add_device(own_db, vin)
    add_alert(own_db, loan_id, vin, kind="tamper", severity="high")
    admin_headers = auth(add_user(own_db, "admin")[1])
    # The real broker, so /readyz is ready; generated device ids are unregistered, so no command
    # goes out. The rate limits are tested elsewhere: here every request of the run must reach the
    # operation (ignored_auth sends a wrong token for each success, which counts as a failure).
    app = app_for(
        database_url=own_db,
        mqtt_url=mqtt_url,
        webhook_interval_s=None,
        stream_poll_s=0.05,
        location_reads_per_minute=1_000_000,
        auth_failures_per_minute=1_000_000,
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    tried: list[str] = []
    violations: dict[str, dict[str, str]] = {}  # operation -> check title -> first report
    cases = 0
    started = time.monotonic()
    try:
        for result in schema.get_all_operations():
            operation = result.ok()
            tried.append(f"{operation.method.upper()} {operation.path}")
            cases += _exercise(operation, admin_headers, violations)
    finally:
        asgi.shutdown_lifespans()
    elapsed = time.monotonic() - started
    print(f"schemathesis: {len(tried)} operations, {cases} cases, {len(ALL_CHECKS)} checks, {elapsed:.0f} s")
    report = "\n\n".join(f"{op}: {title}\n{text}" for op, found in violations.items() for title, text in found.items())
    assert not violations, report
    assert len(tried) >= 31  # every operation, the stream included
