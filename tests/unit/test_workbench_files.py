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


REASONS = [
    # (kind, days past due, evidence, English, Chinese)
    (
        "relocation",
        92,
        {
            "home": {"lat": 28.2282, "lon": 112.9388},
            "stays": [{"lat": 31.2304, "lon": 121.4737}, {"lat": 31.231, "lon": 121.474}, {"lat": 31.2, "lon": 121.5}],
        },
        "parked 3 nights 890 km from home; 92 days past due",
        "已在离常驻点 890 公里外过夜 3 晚；逾期 92 天",
    ),
    (
        "risk_zone_dwell",
        45,
        {"fence": {"name": "二押点 A"}, "inside_min": 42.5},
        "stayed 42.5 min at 二押点 A; 45 days past due",
        "在二押点 A停留 42.5 分钟；逾期 45 天",
    ),
    (
        "offline",
        0,
        {"silent_h": 30.2, "all_devices_offline": True},
        "no report for 30.2 h, every device silent; current",
        "设备 30.2 小时无上报，全部设备离线；未逾期",
    ),
    (
        "power_cut",
        61,
        {"alarm": "power_cut", "inside_risk_zone": True},
        "the tracker raised Power cut inside a risk zone; 61 days past due",
        "设备报警：断电，位于风险区内；逾期 61 天",
    ),
    (
        "device_separation",
        10,
        {"apart_m": 2350},
        "wired and wireless units 2.4 km apart; 10 days past due",
        "有线与无线设备相距 2.4 公里；逾期 10 天",
    ),
]


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the page's module")
@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_reason_a_collector_reads_first(language: str) -> None:
    cases = [{"alert": {"kind": k, "days_past_due": dpd}, "evidence": ev} for k, dpd, ev, _, _ in REASONS]
    # i18n.js reads the browser's storage and language when it loads: give node both.
    script = (
        f"globalThis.localStorage = {{ getItem: () => {json.dumps(language)}, setItem: () => {{}} }};"
        "globalThis.navigator = { language: 'en' }; globalThis.document = { documentElement: {} };"
        f"const {{ reason }} = await import('{(STATIC / 'reason.js').as_uri()}');"
        f"console.log(JSON.stringify({json.dumps(cases)}.map((c) => reason(c.alert, c.evidence))));"
    )
    out = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True, check=True)
    expected = [en if language == "en" else zh for _, _, _, en, zh in REASONS]
    assert json.loads(out.stdout) == expected
