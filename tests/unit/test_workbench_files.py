"""The workbench's files: what the page loads exists and ships in the wheel, its GCJ-02 shift is
geofence/coords.py's, and the tile setting reads as documented."""

import json
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
from setuptools.config.pyprojecttoml import apply_configuration
from setuptools.dist import Distribution

from api.workbench import STATIC, Tiles
from geofence.coords import wgs84_to_gcj02

ROOT = Path(__file__).resolve().parents[2]


def test_every_file_the_page_loads_is_served_from_the_static_directory() -> None:
    html = (STATIC / "index.html").read_text()
    referenced = re.findall(r'(?:src|href)="([^"]+)"', html)
    referenced += re.findall(r'script\("([^"]+)"\)', (STATIC / "map.js").read_text())  # Leaflet, loaded on demand
    assert "vendor/leaflet/leaflet.js" in referenced and "app.js" in referenced
    assert "vendor/markercluster/leaflet.markercluster.js" in referenced
    assert not [r for r in referenced if "//" in r], "no file comes from another host"
    for name in referenced:
        assert (STATIC / name).is_file(), f"index.html loads {name}, which is missing (run scripts/install)"
    modules = {p.name for p in STATIC.glob("*.js")}
    imported = set()
    for module in modules:
        imported |= set(re.findall(r'from "\./([\w.]+)"', (STATIC / module).read_text()))
    assert imported <= modules
    assert imported | {"app.js"} == modules, "every module is imported somewhere"


def test_the_build_ships_the_page_and_its_map_libraries_but_not_node_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # setuptools' own deprecation notices about pyproject fields
        dist = Distribution({"script_name": "setup.py"})
        apply_configuration(dist, "pyproject.toml")
        build = dist.get_command_obj("build_py")
        build.build_lib = str(tmp_path)  # type: ignore[attr-defined]
        dist.run_command("build_py")
    shipped = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()}
    web = {f for f in shipped if f.startswith("api/web/")}
    for name in ("index.html", "app.js", "queue.js", "style.css", "vendor/leaflet/leaflet.js"):
        assert f"api/web/static/{name}" in web
    assert "api/web/static/vendor/markercluster/leaflet.markercluster.js" in web
    assert not [f for f in web if "node_modules" in f or f.endswith("package.json")]


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the page's module")
def test_the_pages_gcj02_shift_is_the_coordinate_modules() -> None:
    points = [(31.230416, 121.473701), (39.9042, 116.4074), (22.5431, 114.0579), (48.8566, 2.3522)]
    script = (
        f"import {{ toGcj02 }} from '{(STATIC / 'coords.js').as_uri()}';"
        f"console.log(JSON.stringify({json.dumps(points)}.map(([a, b]) => toGcj02(a, b))));"
    )
    out = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True, check=True)
    shifted = json.loads(out.stdout)
    lon, lat = wgs84_to_gcj02([p[1] for p in points], [p[0] for p in points])
    assert np.allclose(np.array(shifted), np.column_stack([lat, lon]), atol=1e-9)
    assert shifted[3] == list(points[3])  # outside China: unchanged


def test_tile_setting_presets_urls_and_refusals() -> None:
    assert Tiles.parse("osm").url == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert Tiles.parse("OSM").crs == "wgs84"
    amap = Tiles.parse("amap")
    assert amap.crs == "gcj02" and amap.url is not None and "autonavi" in amap.url
    tianditu = Tiles.parse("tianditu", key="k123")
    assert tianditu.crs == "wgs84" and tianditu.url is not None and tianditu.url.endswith("tk=k123")
    assert Tiles.parse("none").url is None
    own = Tiles.parse("https://tiles.lender.example/{z}/{x}/{y}.png", crs="gcj02")
    assert own.url == "https://tiles.lender.example/{z}/{x}/{y}.png" and own.crs == "gcj02"
    with pytest.raises(ValueError, match="neither a preset"):
        Tiles.parse("google")
    with pytest.raises(ValueError, match="neither a preset"):
        Tiles.parse("https://tiles.lender.example/tile.png")
    with pytest.raises(ValueError, match="crs"):
        Tiles.parse("https://tiles.lender.example/{z}/{x}/{y}.png", crs="bd09")
