"""Administrative regions: real provinces and cities from the data package."""

import numpy as np
import pytest
import shapely

from domain.ids import FenceId
from domain.vocabulary import FenceKind
from geofence.admin_regions import (
    LEGACY_IDS,
    SIMPLIFY_TOLERANCE_DEG,
    AdminRegions,
    admin_regions,
    load_outline,
    package_root,
)
from geofence.errors import UnknownRegion
from geofence.index import FenceIndex
from geofence.regions import Region

# WGS-84, as a tracker reports them.
CHANGSHA = (28.1960, 112.9770)  # Wuyi Square, Changsha
ZHUZHOU = (27.8274, 113.1340)  # Zhuzhou city centre, 40 km south-east
WUHAN = (30.5928, 114.3055)  # Wuhan, Hubei
# The Shanghai / Kunshan (Jiangsu) line crosses 31.33° N at about 121.128° E in WGS-84; the
# package's GCJ-02 data puts it 0.0055° (520 m) further east, at 121.1335° E.
ANTING_SIDE = (31.33, 121.131)  # 280 m inside Shanghai: outside the unconverted outline
HUAQIAO_SIDE = (31.33, 121.125)  # 280 m inside Kunshan


def verdict(reg: Region, point: tuple[float, float], accuracy_m: float = 10.0) -> str:
    """'inside', 'outside' (clearly, beyond the margin) or 'band' for one fix against a region fence."""
    m = FenceIndex.build([reg.as_fence(FenceId(1))]).evaluate([point[0]], [point[1]], [accuracy_m])
    if m.inside.any():
        return "inside"
    return "outside" if m.clear_out.size == 0 or m.clear_out.all() else "band"


def test_changsha_city_holds_changsha_and_not_zhuzhou() -> None:
    changsha = admin_regions().region("430100")
    assert changsha.name == "长沙市" and not changsha.approximate
    assert verdict(changsha, CHANGSHA) == "inside"
    assert verdict(changsha, ZHUZHOU) == "outside"
    assert verdict(admin_regions().region("430200"), ZHUZHOU) == "inside"


def test_hunan_holds_changsha_and_zhuzhou_not_wuhan() -> None:
    hunan = admin_regions().region("湖南省")
    assert hunan.region_id == "430000"
    assert verdict(hunan, CHANGSHA) == "inside" and verdict(hunan, ZHUZHOU) == "inside"
    assert verdict(hunan, WUHAN) == "outside"
    assert verdict(admin_regions().region("Hubei"), WUHAN) == "inside"


@pytest.mark.parametrize(
    ("names", "adcode"),
    [
        (["430000", "湖南省", "湖南", "Hunan", "hunan province", "CN-HN"], "430000"),
        (["430100", "长沙市", "长沙", "Changsha", " 长沙市 "], "430100"),
        (["110000", "北京市", "北京", "Beijing", "CN-BJ"], "110000"),
        (["220000", "吉林省"], "220000"),
        (["220200", "吉林市"], "220200"),
        (["540000", "西藏", "Tibet", "Xizang"], "540000"),
    ],
)
def test_name_and_adcode_name_the_same_region(names: list[str], adcode: str) -> None:
    regions = admin_regions()
    assert {regions.resolve(n) for n in names} == {adcode}
    assert all(regions.region(n) is regions.region(adcode) for n in names)


def test_the_old_built_in_ids_name_their_real_regions() -> None:
    regions = admin_regions()
    assert {old: regions.resolve(old) for old in LEGACY_IDS} == {
        "CN-SH": "310000",
        "CN-BJ": "110000",
        "CN-ZJ-HZ": "330100",
        "CN-JS-SZ": "320500",
    }
    landmarks = {
        "CN-SH": (31.2304, 121.4737),  # People's Square
        "CN-BJ": (39.9073, 116.3912),  # Tiananmen (WGS-84)
        "CN-ZJ-HZ": (30.2431, 120.1500),  # West Lake
        "CN-JS-SZ": (31.2990, 120.5853),  # Suzhou old town
    }
    for rid in LEGACY_IDS:
        reg = regions.region(rid)
        for other, point in landmarks.items():
            assert verdict(reg, point) == ("inside" if other == rid else "outside"), (rid, other)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Atlantis", "no province or city"),
        ("CN-YRD", "no province or city"),
        ("", "no province or city"),
        ("4301", "no province or city"),
        ("吉林", "ambiguous, it names 吉林省 (220000), 吉林市 (220200)"),
        ("Suzhou", "ambiguous, it names 苏州市 (320500), 宿州市 (341300)"),
    ],
)
def test_unknown_or_ambiguous_names_are_refused_with_the_reason(name: str, reason: str) -> None:
    regions = admin_regions()
    with pytest.raises(UnknownRegion) as info:
        regions.resolve(name)
    assert info.value.region_id == name and reason in info.value.reason
    assert name not in regions and regions.get(name) is None


def test_outlines_are_wgs84_across_a_province_border() -> None:
    """At the Shanghai / Kunshan line the fence follows the WGS-84 border, not the GCJ-02 one."""
    shanghai, jiangsu = admin_regions().region("上海市"), admin_regions().region("江苏省")
    assert verdict(shanghai, ANTING_SIDE) == "inside" and verdict(jiangsu, ANTING_SIDE) == "outside"
    assert verdict(shanghai, HUAQIAO_SIDE) == "outside" and verdict(jiangsu, HUAQIAO_SIDE) == "inside"
    raw = shapely.from_geojson((package_root() / "data/datasets/administrative/amap/land/310000.geojson").read_text())
    assert not shapely.contains_xy(raw, ANTING_SIDE[1], ANTING_SIDE[0])  # the offset the conversion removes
    # Accuracy widens the fence for staying: a 300 m fix just across the line still counts as inside.
    assert verdict(shanghai, HUAQIAO_SIDE, accuracy_m=300.0) == "inside"


def test_simplified_outline_stays_within_the_tolerance_of_the_full_one() -> None:
    path = package_root() / "data/datasets/administrative/amap/land/310100.geojson"
    full, simple = load_outline(path, 0.0), load_outline(path, SIMPLIFY_TOLERANCE_DEG)
    assert shapely.is_valid(simple) and simple.geom_type in ("Polygon", "MultiPolygon")
    assert len(shapely.get_coordinates(simple)) < len(shapely.get_coordinates(full)) / 2
    # Every kept vertex is a vertex of the full outline, and no part of the full one is dropped
    # further than the tolerance (plus the part of a degree a GCJ-02 shift changes).
    points = shapely.points(shapely.get_coordinates(full)[::25])
    assert float(np.max(shapely.distance(simple.boundary, points))) <= SIMPLIFY_TOLERANCE_DEG * 1.01


def test_water_between_a_regions_own_shores_is_inside_open_sea_and_a_neighbour_are_not() -> None:
    qingdao = admin_regions().region("青岛市")
    jiaozhou_bay_bridge, yellow_sea = (36.15, 120.28), (35.6, 121.3)
    assert verdict(qingdao, jiaozhou_bay_bridge) == "inside"  # 3 km from land, within Qingdao
    assert verdict(qingdao, yellow_sea) == "outside"
    land_only = AdminRegions(package_root(), closing_deg=0.0).region("370200")
    assert verdict(land_only, jiaozhou_bay_bridge) == "outside"  # what region exit would have said
    guangxi = admin_regions().region("Guangxi")
    assert verdict(guangxi, (21.547, 107.972)) == "inside"  # Dongxing
    assert verdict(guangxi, (21.525, 107.966)) == "outside"  # Mong Cai, Vietnam, across the river
    assert (
        admin_regions()
        .region("湖南省")
        .geometry.equals(AdminRegions(package_root(), closing_deg=0.0).region("湖南省").geometry)
    )


def test_region_as_fence_is_an_allowed_region() -> None:
    fence = admin_regions().region("CN-SH").as_fence(FenceId(4))
    assert fence.kind is FenceKind.ALLOWED_REGION and fence.dwell_s is None

