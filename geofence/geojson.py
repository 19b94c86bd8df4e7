"""GeoJSON geometry in and out, validated with errors that name the offending field.

Only the shapes a fence can take are accepted: Point (a circle, with radius_m beside it), Polygon
and MultiPolygon, holes included. Coordinates are [lon, lat] as RFC 7946 says; a source datum other
than WGS-84 is converted vertex by vertex before the geometry is built.
"""

import math
from collections.abc import Sequence
from typing import Any, TypeAlias

import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, mapping
from shapely.geometry.base import BaseGeometry

from geofence.coords import to_wgs84
from geofence.errors import FenceDefinitionError

FenceGeometry: TypeAlias = Point | Polygon | MultiPolygon
_SHAPES = ("Point", "Polygon", "MultiPolygon")


def _position(value: Any, field: str) -> tuple[float, float]:
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) < 2:
        raise FenceDefinitionError(field, f"expected a [lon, lat] pair, got {value!r}")
    lon, lat = value[0], value[1]
    for name, number in (("lon", lon), ("lat", lat)):
        if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
            raise FenceDefinitionError(field, f"{name} must be a finite number, got {number!r}")
    if not -180.0 <= lon <= 180.0:
        raise FenceDefinitionError(field, f"lon {lon} out of range [-180, 180]")
    if not -90.0 <= lat <= 90.0:
        raise FenceDefinitionError(field, f"lat {lat} out of range [-90, 90] (is it [lon, lat]?)")
    return float(lon), float(lat)


def _ring(value: Any, field: str, crs: str) -> list[tuple[float, float]]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise FenceDefinitionError(field, "expected a list of [lon, lat] positions")
    points = [_position(p, f"{field}[{i}]") for i, p in enumerate(value)]
    if len(points) < 4:
        raise FenceDefinitionError(field, f"a linear ring needs at least 4 positions, got {len(points)}")
    if points[0] != points[-1]:
        raise FenceDefinitionError(field, "a linear ring must end where it starts (RFC 7946 §3.1.6)")
    lon, lat = to_wgs84([p[0] for p in points], [p[1] for p in points], crs)
    return list(zip(lon.tolist(), lat.tolist(), strict=True))


def _polygon(value: Any, field: str, crs: str) -> Polygon:
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        raise FenceDefinitionError(field, "expected a non-empty list of linear rings")
    shell = _ring(value[0], f"{field}[0]", crs)
    holes = [_ring(r, f"{field}[{i}]", crs) for i, r in enumerate(value[1:], start=1)]
    return Polygon(shell, holes)


def parse_geometry(value: Any, *, crs: str = "wgs84", field: str = "geometry") -> FenceGeometry:
    """A validated shapely geometry in WGS-84 from a GeoJSON geometry object."""
    if not isinstance(value, dict):
        raise FenceDefinitionError(field, f"expected a GeoJSON geometry object, got {type(value).__name__}")
    kind = value.get("type")
    if kind not in _SHAPES:
        raise FenceDefinitionError(f"{field}.type", f"must be one of {', '.join(_SHAPES)}, got {kind!r}")
    coords = value.get("coordinates")
    if coords is None:
        raise FenceDefinitionError(f"{field}.coordinates", "missing")
    where = f"{field}.coordinates"
    geometry: FenceGeometry
    if kind == "Point":
        lon, lat = _position(coords, where)
        wlon, wlat = to_wgs84(lon, lat, crs)
        point: FenceGeometry = Point(float(wlon), float(wlat))
        return point
    if kind == "Polygon":
        geometry = _polygon(coords, where, crs)
    else:
        if not isinstance(coords, Sequence) or isinstance(coords, str) or not coords:
            raise FenceDefinitionError(where, "expected a non-empty list of polygons")
        geometry = MultiPolygon([_polygon(p, f"{where}[{i}]", crs) for i, p in enumerate(coords)])
    if not shapely.is_valid(geometry):
        raise FenceDefinitionError(where, f"invalid {kind}: {shapely.is_valid_reason(geometry)}")
    return geometry


def geometry_to_geojson(geometry: BaseGeometry) -> dict[str, Any]:
    """A plain-JSON GeoJSON geometry object (lists, not tuples) for a shapely geometry."""

    def lists(value: Any) -> Any:
        if isinstance(value, tuple | list):
            return [lists(v) for v in value]
        return value

    raw = mapping(geometry)
    return {"type": raw["type"], "coordinates": lists(raw["coordinates"])}
