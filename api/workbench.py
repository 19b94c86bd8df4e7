"""The collectors' workbench: the web page `lienwatch api` serves at /workbench/ (with its content
policy), its map tile setting, and `/api/v1/me`, which tells the page who a token belongs to.

The page is static files (plain ES modules, Leaflet from npm copied into static/vendor by
scripts/install): it reads and works alerts through the same /api/v1 endpoints as any client, so
scoping, masking, holds, rate limits and audit apply to it unchanged. No location passes
through this module.
"""

import base64
import hashlib
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.responses import Response
from starlette.types import Scope

from api.auth import Family, Principal
from api.deps import principal
from api.errors import AUTHENTICATED, problems

STATIC = Path(__file__).parent / "web" / "static"
PATH = "/workbench"

# Tianditu draws in CGCS2000, which is within centimetres of WGS-84; AMap draws in GCJ-02, so the
# page shifts every point it puts on AMap tiles (geofence/coords.py's forward transform).
_PRESETS: dict[str, dict[str, Any]] = {
    "osm": {
        "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "attribution": "© OpenStreetMap contributors",
        "subdomains": "",
        "crs": "wgs84",
        "max_zoom": 19,
    },
    "amap": {
        "url": "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        "attribution": "© AutoNavi",
        "subdomains": "1234",
        "crs": "gcj02",
        "max_zoom": 18,
    },
    "tianditu": {
        "url": "https://t{s}.tianditu.gov.cn/DataServer?T=vec_w&x={x}&y={y}&l={z}&tk={key}",
        "attribution": "© 天地图 Tianditu",
        "subdomains": "01234567",
        "crs": "wgs84",
        "max_zoom": 18,
    },
}
CRS = ("wgs84", "gcj02")


@dataclass(frozen=True, slots=True)
class Tiles:
    """Where the page's map tiles come from; url None draws on a plain background."""

    url: str | None
    attribution: str = ""
    subdomains: str = ""
    crs: str = "wgs84"
    max_zoom: int = 19

    @classmethod
    def parse(cls, source: str, *, key: str | None = None, crs: str = "wgs84") -> "Tiles":
        """`osm`, `amap`, `tianditu` (with its key), `none`, or a URL template ({z}/{x}/{y}) drawn in `crs`."""
        name = source.strip()
        if name.lower() == "none":
            return cls(None)
        preset = _PRESETS.get(name.lower())
        if preset is not None:
            return cls(**(preset | {"url": preset["url"].replace("{key}", key or "")}))
        if not name.startswith(("http://", "https://")) or "{z}" not in name:
            presets = ", ".join(_PRESETS)
            raise ValueError(f"map tiles: {source!r} is neither a preset ({presets}, none) nor a URL template")
        if crs not in CRS:
            raise ValueError(f"map tiles crs: {crs!r} is not one of {', '.join(CRS)}")
        return cls(name, crs=crs)


OSM = Tiles.parse("osm")

me_router = APIRouter(prefix="/api/v1", tags=["users"], responses=problems(*AUTHENTICATED))


class Me(BaseModel):
    name: str
    role: str
    families: list[str] = Field(description="The endpoint families this role may use")
    sees_identity: bool = Field(description="Whether plates and borrower names are shown in clear")


@me_router.get("/me", summary="Who the bearer token belongs to, and what the role may use", response_model=Me)
async def me(who: Annotated[Principal, Depends(principal)]) -> dict[str, Any]:
    """The caller's name, role, endpoint families and whether identities are shown in clear."""
    return {
        "name": who.name,
        "role": who.role.value,
        "families": [f.value for f in Family if who.may(f)],
        "sees_identity": who.sees_identity,
    }


def _tile_source(url: str | None) -> str:
    """The CSP source the tiles load from: `https://*.rest.of.host` for a {s} subdomain."""
    if url is None:
        return ""
    parts = urlsplit(url)
    first, _, rest = parts.netloc.partition(".")
    host = f"*.{rest}" if "{s}" in first else parts.netloc
    return f" {parts.scheme}://{host}"


def content_policy(tiles: Tiles) -> str:
    """The page may run only its own scripts (and its one inline script), talk only to its own
    API, and draw images from itself and the tile host: a token in the tab goes nowhere else."""
    html = (STATIC / "index.html").read_text()
    inline = [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    ]
    return (
        f"default-src 'self'; script-src 'self' {' '.join(inline)}; connect-src 'self'; "
        f"img-src 'self' data: blob:{_tile_source(tiles.url)}; style-src 'self'; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )


class _Page(StaticFiles):
    """The static files, each with the page's content policy."""

    def __init__(self, *, policy: str, directory: Path) -> None:
        super().__init__(directory=directory, html=True, check_dir=False)
        self.policy = policy

    def file_response(
        self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Content-Security-Policy"] = self.policy
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def install(app: FastAPI, tiles: Tiles) -> None:
    """Serve the workbench and its settings from the app."""
    app.include_router(me_router)
    config = {"tiles": asdict(tiles)}

    @app.get(PATH + "/config.json", include_in_schema=False)
    async def workbench_config() -> dict[str, Any]:
        return config

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse(PATH + "/")

    policy = content_policy(tiles) if (STATIC / "index.html").is_file() else "default-src 'self'"
    app.mount(PATH, _Page(policy=policy, directory=STATIC), name="workbench")
