"""The fence: a circle, polygon or multipolygon in WGS-84 with its kind, binding, hours and dwell."""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, TypeVar

from shapely.geometry import Point

from domain.ids import FenceId, LoanId
from domain.vocabulary import FenceKind, RiskZoneType
from geofence.errors import FenceDefinitionError
from geofence.geojson import FenceGeometry, geometry_to_geojson, parse_geometry
from geofence.hours import DEFAULT_TIMEZONE, ActiveHours

# DESIGN.md, default thresholds: risk_zone_dwell >= 30 min inside a risk zone
# ("entering is a warning, staying is the risk").
DEFAULT_RISK_ZONE_DWELL_S: Final = 30 * 60
SOURCE_CRS: Final = ("wgs84", "gcj02", "bd09")
_E = TypeVar("_E", FenceKind, RiskZoneType)


@dataclass(frozen=True, slots=True)
class Fence:
    """One fence. A circle is a Point geometry with radius_m; polygons carry no radius."""

    fence_id: FenceId
    name: str
    kind: FenceKind
    geometry: FenceGeometry  # WGS-84, [lon, lat]
    radius_m: float | None = None
    subtype: RiskZoneType | None = None
    is_global: bool = True
    loan_ids: frozenset[LoanId] = field(default=frozenset())
    active_hours: ActiveHours | None = None
    # Seconds inside before a dwell signal; None means no dwell timer. Risk zones default to 30 min.
    dwell_s: int | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise FenceDefinitionError("name", "must not be empty")
        if isinstance(self.geometry, Point):
            if self.radius_m is None or not math.isfinite(self.radius_m) or self.radius_m <= 0:
                raise FenceDefinitionError("radius_m", f"a circle needs a radius > 0 m, got {self.radius_m!r}")
        elif self.radius_m is not None:
            raise FenceDefinitionError("radius_m", "only a circle (Point geometry) takes a radius")
        if self.subtype is not None and self.kind != FenceKind.RISK_ZONE:
            raise FenceDefinitionError("subtype", f"only risk zones have a subtype, not {self.kind.value}")
        if self.dwell_s is not None and self.dwell_s < 0:
            raise FenceDefinitionError("dwell_s", f"must be >= 0, got {self.dwell_s}")
        if self.kind == FenceKind.RISK_ZONE and self.dwell_s is None:
            object.__setattr__(self, "dwell_s", DEFAULT_RISK_ZONE_DWELL_S)
        if self.kind == FenceKind.RISK_ZONE and self.subtype is None:
            object.__setattr__(self, "subtype", RiskZoneType.CUSTOM)
        if self.is_global and self.loan_ids:
            raise FenceDefinitionError("loan_ids", "a global fence is bound to no loan")

    @property
    def is_circle(self) -> bool:
        """True for a circle (centre + radius)."""
        return isinstance(self.geometry, Point)

    def applies_to(self, loan_ids: Iterable[LoanId]) -> bool:
        """True when this fence watches a vehicle securing any of these loans."""
        return self.is_global or not self.loan_ids.isdisjoint(loan_ids)

    def active_at(self, ts: datetime) -> bool:
        """True when the fence is in force at instant ts (always, without active hours)."""
        return self.active_hours is None or self.active_hours.contains(ts)

    def to_feature(self) -> dict[str, Any]:
        """This fence as a GeoJSON Feature (a circle is a Point with a radius_m property)."""
        properties: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind.value,
            "subtype": self.subtype.value if self.subtype else None,
            "radius_m": self.radius_m,
            "is_global": self.is_global,
            "loan_ids": sorted(self.loan_ids),
            "active_hours": str(self.active_hours) if self.active_hours else None,
            "dwell_s": self.dwell_s,
        }
        return {
            "type": "Feature",
            "id": int(self.fence_id),
            "geometry": geometry_to_geojson(self.geometry),
            "properties": properties,
        }

    @classmethod
    def from_feature(
        cls, feature: Mapping[str, Any], *, fence_id: FenceId | None = None, source_crs: str = "wgs84"
    ) -> "Fence":
        """A fence from a GeoJSON Feature; coordinates in source_crs are converted to WGS-84."""
        if feature.get("type") != "Feature":
            raise FenceDefinitionError("type", f"expected 'Feature', got {feature.get('type')!r}")
        if source_crs not in SOURCE_CRS:
            raise FenceDefinitionError("source_crs", f"must be one of {', '.join(SOURCE_CRS)}")
        props = feature.get("properties") or {}
        if not isinstance(props, Mapping):
            raise FenceDefinitionError("properties", "expected an object")
        geometry = parse_geometry(feature.get("geometry"), crs=source_crs)
        ident = fence_id if fence_id is not None else feature.get("id", 0)
        if isinstance(ident, bool) or not isinstance(ident, int):
            raise FenceDefinitionError("id", f"expected an integer fence id, got {ident!r}")
        kind = _enum(FenceKind, props.get("kind"), "properties.kind")
        subtype_raw = props.get("subtype")
        subtype = None if subtype_raw is None else _enum(RiskZoneType, subtype_raw, "properties.subtype")
        hours_raw = props.get("active_hours")
        if hours_raw is not None and not isinstance(hours_raw, str):
            raise FenceDefinitionError("properties.active_hours", "expected a string like '08:00-20:00'")
        timezone = props.get("timezone") or DEFAULT_TIMEZONE
        hours = ActiveHours.parse(hours_raw, timezone) if hours_raw else None
        loans = props.get("loan_ids") or []
        if not isinstance(loans, list) or not all(isinstance(x, str) for x in loans):
            raise FenceDefinitionError("properties.loan_ids", "expected a list of loan id strings")
        return cls(
            fence_id=FenceId(ident),
            name=_text(props.get("name"), "properties.name"),
            kind=kind,
            geometry=geometry,
            radius_m=_number(props.get("radius_m"), "properties.radius_m"),
            subtype=subtype,
            is_global=bool(props.get("is_global", not loans)),
            loan_ids=frozenset(LoanId(x) for x in loans),
            active_hours=hours,
            dwell_s=_integer(props.get("dwell_s"), "properties.dwell_s"),
        )


def _enum(enum: type[_E], value: Any, field: str) -> _E:
    try:
        return enum(value)
    except ValueError as exc:
        allowed = ", ".join(m.value for m in enum)
        raise FenceDefinitionError(field, f"must be one of {allowed}, got {value!r}") from exc


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise FenceDefinitionError(field, "expected a non-empty string")
    return value


def _number(value: Any, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FenceDefinitionError(field, f"expected a finite number, got {value!r}")
    return float(value)


def _integer(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise FenceDefinitionError(field, f"expected an integer number of seconds, got {value!r}")
    return value
