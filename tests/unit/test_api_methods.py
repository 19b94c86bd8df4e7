"""A method a path does not serve gets 405 as problem+json, with an Allow header naming every
method the OpenAPI document gives that path (schemathesis's unsupported_method and
allow_header_conformance checks, over every path)."""

import re

from fastapi.testclient import TestClient

from api.errors import MEDIA_TYPE
from lienwatch.api_wiring import app_for

METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH")


def test_every_undocumented_method_gets_405_naming_the_documented_ones() -> None:
    # No lifespan: routing answers before any dependency would reach the database.
    app = app_for(database_url="postgresql://unused", mqtt_url="mqtt://unused", webhook_interval_s=None)
    client = TestClient(app)
    paths = app.openapi()["paths"]
    checked = 0
    for template, operations in paths.items():
        documented = sorted(m.upper() for m in operations)
        url = re.sub(r"{\w+}", "1", template)
        for method in METHODS:
            if method in documented:
                continue
            response = client.request(method, url)
            assert response.status_code == 405, (method, url, response.text)
            assert response.headers["content-type"] == MEDIA_TYPE
            assert response.headers["allow"] == ", ".join(documented), (method, url)
            checked += 1
    assert checked > 100


def test_a_literal_path_beside_a_templated_one_answers_for_itself() -> None:
    """/fences/import takes POST only: a PUT there is not a PUT of fence "import"."""
    app = app_for(database_url="postgresql://unused", mqtt_url="mqtt://unused", webhook_interval_s=None)
    response = TestClient(app).put("/api/v1/fences/import", json={})
    assert response.status_code == 405 and response.headers["allow"] == "POST"
