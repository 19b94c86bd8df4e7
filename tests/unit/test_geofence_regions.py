"""Administrative regions: the approximate built-in set and GeoJSON import."""

from typing import Any

import pytest

from domain.ids import FenceId
from domain.vocabulary import FenceKind
from geofence.errors import FenceDefinitionError, UnknownRegion
from geofence.index import FenceIndex
from geofence.regions import builtin_regions, region, regions_from_geojson

LANDMARKS = {
    "CN-SH": (31.2304, 121.4737),  # People's Square
    "CN-BJ": (39.9087, 116.3975),  # Tiananmen
    "CN-ZJ-HZ": (30.2431, 120.1500),  # West Lake
    "CN-JS-SZ": (31.2990, 120.5853),  # Suzhou old town
}


def test_builtin_regions_hold_their_landmarks_and_not_the_others() -> None:
    regions = builtin_regions()
    assert set(regions) == set(LANDMARKS)
    for rid, reg in regions.items():
        assert reg.approximate
        index = FenceIndex.build([reg.as_fence(FenceId(1))])
        for other, (lat, lon) in LANDMARKS.items():
            m = index.evaluate([lat], [lon], [10.0])
            inside = bool(m.inside.any())
            assert inside == (other == rid), (rid, other)


def test_region_as_fence_is_an_allowed_region() -> None:
    fence = builtin_regions()["CN-SH"].as_fence(FenceId(4))
    assert fence.kind is FenceKind.ALLOWED_REGION and fence.dwell_s is None


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def square_feature(adcode: str, name: str) -> dict[str, Any]:
    ring = [[120.0, 30.0], [120.5, 30.0], [120.5, 30.5], [120.0, 30.5], [120.0, 30.0]]
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"adcode": adcode, "name": name},
    }


def test_import_regions_from_geojson_by_id_property() -> None:
    regions = regions_from_geojson(collection(square_feature("330100", "杭州市")), id_property="adcode")
    assert list(regions) == ["330100"]
    assert regions["330100"].name == "杭州市" and not regions["330100"].approximate
    assert region(regions, "330100") is regions["330100"]
    with pytest.raises(UnknownRegion):
        region(regions, "CN-XX")


def test_import_errors_name_the_feature_and_field() -> None:
    bad = square_feature("330100", "x")
    bad["properties"].pop("adcode")
    with pytest.raises(FenceDefinitionError) as info:
        regions_from_geojson(collection(square_feature("1", "a"), bad), id_property="adcode")
    assert info.value.field == "features[1].properties.adcode"
    point = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [120, 30]}, "properties": {"id": "p"}}
    with pytest.raises(FenceDefinitionError, match=r"features\[0\]\.geometry\.type"):
        regions_from_geojson(collection(point))
    with pytest.raises(FenceDefinitionError, match="FeatureCollection"):
        regions_from_geojson({"type": "Feature"})
