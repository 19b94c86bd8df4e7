"""`lienwatch api` serves the workbench itself: the page, its libraries, its tile setting, and
/api/v1/me for the sign-in."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.workbench import Tiles
from lienwatch.api_wiring import app_for
from tests.support.api_harness import add_user, auth, own_database

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def db(pg_available: None) -> Iterator[str]:
    with own_database() as url:
        yield url


@pytest.fixture(scope="module")
def client(db: str, mqtt_url: str) -> Iterator[TestClient]:
    app = app_for(database_url=db, mqtt_url=mqtt_url, webhook_interval_s=None, map_tiles=Tiles.parse("amap"))
    with TestClient(app) as c:
        yield c


def test_the_page_and_its_libraries_are_served_without_a_token(client: TestClient) -> None:
    home = client.get("/", follow_redirects=False)
    assert home.status_code == 307 and home.headers["location"] == "/workbench/"
    page = client.get("/workbench/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="app.js">' in page.text
    leaflet = client.get("/workbench/vendor/leaflet/leaflet.js")
    assert leaflet.status_code == 200 and "Leaflet" in leaflet.text[:500]
    module = client.get("/workbench/app.js").headers["content-type"]
    assert module.startswith(("text/javascript", "application/javascript"))
    assert client.get("/workbench/nothing-here.js").status_code == 404
    policy = page.headers["content-security-policy"]
    assert "connect-src 'self'" in policy and "script-src 'self' 'sha256-" in policy
    assert "img-src 'self' data: blob: https://*.is.autonavi.com;" in policy  # the configured tiles' host


def test_the_tile_setting_reaches_the_page(client: TestClient) -> None:
    tiles = client.get("/workbench/config.json").json()["tiles"]
    assert tiles["crs"] == "gcj02" and "autonavi" in tiles["url"]


def test_me_names_the_tokens_user_and_what_the_role_may_use(client: TestClient, db: str) -> None:
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers=auth("no-such-token")).status_code == 401
    name, token = add_user(db, "collector")
    me = client.get("/api/v1/me", headers=auth(token)).json()
    assert me["name"] == name and me["role"] == "collector" and me["sees_identity"] is True
    assert "alerts.work" in me["families"] and "alerts.assign" not in me["families"]
    assert "portfolio" not in me["families"] and "commands" not in me["families"]
    _, boss = add_user(db, "supervisor")
    families = client.get("/api/v1/me", headers=auth(boss)).json()["families"]
    assert {"portfolio", "commands", "alerts.assign"} <= set(families)
