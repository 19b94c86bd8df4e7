"""The interactive API documentation works without the internet: /docs and /redoc name no other
host, and every script, stylesheet and icon they load is served by the app itself."""

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from lienwatch.api_wiring import app_for


class _Assets(HTMLParser):
    """The URLs a page loads: script src, link href, and any other src attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and (name == "src" or (tag == "link" and name == "href")):
                self.urls.append(value)


@pytest.fixture(scope="module")
def client() -> TestClient:
    # No lifespan: the pages and their assets need neither the database nor the broker.
    return TestClient(app_for(database_url="postgresql://unused", mqtt_url="mqtt://unused", webhook_interval_s=None))


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_page_loads_only_what_the_app_serves(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert re.findall(r"(?:https?:)?//[\w.-]+", html) == [], "the page names another host"
    parser = _Assets()
    parser.feed(html)
    scripts = [u for u in parser.urls if u.endswith(".js")]
    assert scripts
    if page == "/docs":
        assert any(u.endswith(".css") for u in parser.urls)
    for url in parser.urls:
        assert not urlsplit(url).netloc, url
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 1000, f"{url} is too small to be the real asset"
    if page == "/docs":
        assert "/openapi.json" in html


def test_the_swagger_bundle_is_the_real_one(client: TestClient) -> None:
    page = _Assets()
    page.feed(client.get("/docs").text)
    (bundle,) = [u for u in page.urls if u.endswith(".js")]
    assert b"SwaggerUIBundle" in client.get(bundle).content
