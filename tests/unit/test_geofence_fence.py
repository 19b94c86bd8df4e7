"""Fence model: GeoJSON in and out, validation errors naming the field, active hours."""

from datetime import UTC, datetime
from typing import Any

import pytest

from domain.vocabulary import FenceKind, RiskZoneType
from geofence.coords import gcj02_to_wgs84, wgs84_to_gcj02
from geofence.errors import FenceDefinitionError
from geofence.fence import DEFAULT_RISK_ZONE_DWELL_S, Fence
from geofence.hours import ActiveHours

PAWN_SHOP = [121.4737, 31.2304]  # a pawn shop near People's Square, Shanghai (WGS-84)


def circle_feature(**props: Any) -> dict[str, Any]:
    properties = {"name": "Pawn shop", "kind": "risk_zone", "subtype": "pawn_shop", "radius_m": 150}
    properties.update(props)
    geometry = {"type": "Point", "coordinates": PAWN_SHOP}
    return {"type": "Feature", "id": 7, "geometry": geometry, "properties": properties}


def test_circle_round_trips_through_geojson() -> None:
    fence = Fence.from_feature(circle_feature(active_hours="22:00-06:00", loan_ids=["L1"]))
    assert fence.is_circle and fence.radius_m == 150.0
    assert fence.subtype is RiskZoneType.PAWN_SHOP
    assert fence.dwell_s == DEFAULT_RISK_ZONE_DWELL_S == 1800
    assert not fence.is_global and fence.loan_ids == {"L1"}
    again = Fence.from_feature(fence.to_feature())
    assert again == fence


def test_polygon_with_hole_round_trips() -> None:
    shell = [[121.40, 31.20], [121.50, 31.20], [121.50, 31.30], [121.40, 31.30], [121.40, 31.20]]
    hole = [[121.44, 31.24], [121.46, 31.24], [121.46, 31.26], [121.44, 31.26], [121.44, 31.24]]
    feature = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [shell, hole]},
        "properties": {"name": "Used-car market", "kind": "risk_zone", "subtype": "used_car_market"},
    }
    fence = Fence.from_feature(feature, fence_id=3)  # type: ignore[arg-type]
    assert len(fence.geometry.interiors) == 1
    out = fence.to_feature()
    assert out["geometry"]["coordinates"][1] == hole
    assert Fence.from_feature(out) == fence


def test_multipolygon_region_has_no_dwell_by_default() -> None:
    square = [[[120.0, 30.0], [120.1, 30.0], [120.1, 30.1], [120.0, 30.1], [120.0, 30.0]]]
    other = [[[121.0, 30.0], [121.1, 30.0], [121.1, 30.1], [121.0, 30.1], [121.0, 30.0]]]
    feature = {
        "type": "Feature",
        "geometry": {"type": "MultiPolygon", "coordinates": [square, other]},
        "properties": {"name": "Two islands", "kind": "allowed_region"},
    }
    fence = Fence.from_feature(feature)
    assert fence.kind is FenceKind.ALLOWED_REGION and fence.dwell_s is None and fence.subtype is None
    assert len(fence.geometry.geoms) == 2


def test_gcj02_import_lands_on_the_wgs84_point() -> None:
    glon, glat = wgs84_to_gcj02(*PAWN_SHOP)
    feature = circle_feature()
    feature["geometry"]["coordinates"] = [float(glon), float(glat)]
    fence = Fence.from_feature(feature, source_crs="gcj02")
    assert fence.geometry.x == pytest.approx(PAWN_SHOP[0], abs=1e-7)
    assert fence.geometry.y == pytest.approx(PAWN_SHOP[1], abs=1e-7)
    # and not where a naive import would put it
    assert abs(float(glon) - PAWN_SHOP[0]) > 1e-3
    assert gcj02_to_wgs84(glon, glat)[0] == pytest.approx(fence.geometry.x)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda f: f["geometry"].update(type="LineString"), "geometry.type"),
        (lambda f: f["geometry"].update(coordinates=[31.2304, 121.4737]), "geometry.coordinates"),
        (lambda f: f["geometry"].update(coordinates=["a", 31.0]), "geometry.coordinates"),
        (lambda f: f["geometry"].pop("coordinates"), "geometry.coordinates"),
        (lambda f: f["properties"].update(radius_m=0), "radius_m"),
        (lambda f: f["properties"].update(radius_m=None), "radius_m"),
        (lambda f: f["properties"].update(kind="casino"), "properties.kind"),
        (lambda f: f["properties"].update(subtype="bank"), "properties.subtype"),
        (lambda f: f["properties"].update(active_hours="8-20"), "active_hours"),
        (lambda f: f["properties"].update(active_hours="25:00-06:00"), "active_hours"),
        (lambda f: f["properties"].update(active_hours="08:00-20:00", timezone="Mars/Olympus"), "timezone"),
        (lambda f: f["properties"].update(dwell_s=-1), "dwell_s"),
        (lambda f: f["properties"].update(name=""), "properties.name"),
        (lambda f: f.update(type="FeatureCollection"), "type"),
    ],
)
def test_bad_input_names_the_field(mutate: Any, field: str) -> None:
    feature = circle_feature()
    mutate(feature)
    with pytest.raises(FenceDefinitionError) as info:
        Fence.from_feature(feature)
    assert info.value.field == field


def test_unclosed_or_self_crossing_rings_are_rejected_with_the_ring_named() -> None:
    open_ring = [[121.40, 31.20], [121.50, 31.20], [121.50, 31.30], [121.40, 31.30]]
    feature = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [[*open_ring, [121.41, 31.2]]]},
        "properties": {"name": "x", "kind": "home"},
    }
    with pytest.raises(FenceDefinitionError, match=r"geometry\.coordinates\[0\].*end where it starts"):
        Fence.from_feature(feature)
    bowtie = [[121.40, 31.20], [121.50, 31.30], [121.50, 31.20], [121.40, 31.30], [121.40, 31.20]]
    feature["geometry"]["coordinates"] = [bowtie]  # type: ignore[index]
    with pytest.raises(FenceDefinitionError, match="Self-intersection"):
        Fence.from_feature(feature)


def at_shanghai(hour: int, minute: int = 0) -> datetime:
    # Asia/Shanghai is UTC+8 without daylight saving.
    return datetime(2026, 11, 2, (hour - 8) % 24, minute, tzinfo=UTC)


def test_daytime_active_hours_are_half_open() -> None:
    hours = ActiveHours.parse("08:00-20:00")
    assert hours.contains(at_shanghai(8, 0))
    assert hours.contains(at_shanghai(19, 59))
    assert not hours.contains(at_shanghai(20, 0))
    assert not hours.contains(at_shanghai(7, 59))


def test_overnight_active_hours_wrap_midnight() -> None:
    hours = ActiveHours.parse("22:00-06:00")
    assert hours.contains(at_shanghai(22, 0))
    assert hours.contains(at_shanghai(0, 30))
    assert hours.contains(at_shanghai(5, 59))
    assert not hours.contains(at_shanghai(6, 0))
    assert not hours.contains(at_shanghai(12, 0))


def test_active_hours_in_another_zone_round_trip_through_text() -> None:
    hours = ActiveHours.parse("09:00-17:00 Europe/Berlin")
    assert str(hours) == "09:00-17:00 Europe/Berlin"
    assert ActiveHours.parse(str(hours)) == hours
    assert hours.contains(datetime(2026, 7, 1, 7, 30, tzinfo=UTC))  # 09:30 CEST
    assert not hours.contains(datetime(2026, 7, 1, 15, 30, tzinfo=UTC))  # 17:30 CEST
