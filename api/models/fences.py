"""Fences as GeoJSON, as the API returns them."""

from typing import Any, Literal

from pydantic import BaseModel, Field

from domain.vocabulary import FenceKind


class FenceProperties(BaseModel):
    name: str
    kind: FenceKind
    subtype: str | None = Field(description="Risk zones: pawn_shop, second_lien, used_car_market, ...")
    radius_m: float | None = Field(description="Circles (a Point geometry) only")
    is_global: bool
    loan_ids: list[str] = Field(description="The loans it is bound to (a collector sees only their own)")
    active_hours: str | None
    dwell_s: int | None


class FenceFeature(BaseModel):
    type: Literal["Feature"]
    id: int
    geometry: dict[str, Any] = Field(
        description="GeoJSON geometry in WGS-84; a home fence's coordinates are city-level unless its loans' "
        "locations may be read precisely"
    )
    properties: FenceProperties


class FenceCollection(BaseModel):
    type: Literal["FeatureCollection"]
    features: list[FenceFeature]


class FencesImported(BaseModel):
    created: int
    fence_ids: list[int]
