"""Fences as GeoJSON: list, read, create, replace, delete, and bulk import of risk zones."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, Field

from api.auth import Family, Principal
from api.deps import Conn, require
from api.errors import AUTHENTICATED, BODY, NotFound, Unprocessable, problems
from api.models.fences import FenceCollection, FenceFeature, FencesImported
from api.policy import NO_LOAN, least, location_access
from domain.ids import FenceId
from domain.vocabulary import FenceKind
from geofence.errors import GeofenceError
from geofence.fence import Fence
from storage import fences, loans, tracks
from storage.database import Connection
from storage.fences import FenceNotFound

router = APIRouter(prefix="/api/v1/fences", tags=["fences"], responses=problems(*AUTHENTICATED))

FenceIdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
# "{fence_id:int}" in the routes: /fences/import is then never taken for a fence id, so a PUT or
# DELETE there gets 405 (import takes POST), not a 422 about the id.
SourceCrs = Literal["wgs84", "gcj02", "bd09"]
MAX_IMPORT = 5000


class Feature(BaseModel):
    """A GeoJSON Feature; properties: name, kind, subtype, radius_m, loan_ids, active_hours, dwell_s."""

    type: Literal["Feature"]
    geometry: dict[str, Any]
    properties: dict[str, Any]
    id: int | None = None


class FeatureCollection(BaseModel):
    type: Literal["FeatureCollection"]
    features: list[Feature] = Field(max_length=MAX_IMPORT)


def _parse(feature: Feature, source_crs: str, fence_id: int = 0, where: str = "") -> Fence:
    try:
        return Fence.from_feature(feature.model_dump(), fence_id=FenceId(fence_id), source_crs=source_crs)
    except GeofenceError as exc:
        raise Unprocessable(f"{where}{exc}", field=getattr(exc, "field", None)) from exc
    except (TypeError, ValueError) as exc:
        raise Unprocessable(f"{where}geometry: {exc}", field="geometry") from exc


def _features(conn: Connection, found: list[Fence]) -> list[dict[str, Any]]:
    """Fences as GeoJSON. A home fence is where a borrower lives: city-level unless the location
    of every loan it is bound to may be read precisely (api.policy's rule)."""
    personal = sorted({loan for f in found if f.kind == FenceKind.HOME for loan in f.loan_ids})
    access = {k: location_access(v) for k, v in tracks.loans_access(conn, personal).items()} if personal else {}
    return [
        least([access.get(loan, NO_LOAN) for loan in f.loan_ids]).shown(f.to_feature())
        if f.kind == FenceKind.HOME
        else f.to_feature()
        for f in found
    ]


@router.get("", summary="Fences as a GeoJSON FeatureCollection", response_model=FenceCollection)
def list_fences(
    conn: Conn, who: Annotated[Principal, Depends(require(Family.FENCES_READ))], kind: FenceKind | None = None
) -> dict[str, Any]:
    """All fences, or those of one kind; a collector sees only their own loans among the bound ones."""
    features = _features(conn, fences.list_fences(conn, kind=kind))
    return {"type": "FeatureCollection", "features": _scoped(conn, who, features)}


def _scoped(conn: Connection, who: Principal, features: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Other collectors' loan ids would tell a collector whose cars are watched where.
    collector = who.scope_collector
    if collector is None:
        return features
    own = loans.loan_ids_of_collector(conn, collector)
    for feature in features:
        properties = feature["properties"]
        properties["loan_ids"] = [x for x in properties.get("loan_ids", []) if x in own]
    return features


@router.get(
    "/{fence_id:int}", summary="One fence as a GeoJSON Feature", response_model=FenceFeature, responses=problems(404)
)
def get_fence(
    conn: Conn, who: Annotated[Principal, Depends(require(Family.FENCES_READ))], fence_id: FenceIdPath
) -> dict[str, Any]:
    """The fence (a collector sees only their own loans among those it is bound to)."""
    try:
        return _scoped(conn, who, _features(conn, [fences.get_fence(conn, FenceId(fence_id))]))[0]
    except FenceNotFound as exc:
        raise NotFound(f"fence {fence_id} does not exist") from exc


@router.post(
    "",
    status_code=201,
    summary="Create a fence from a GeoJSON Feature",
    response_model=FenceFeature,
    responses=problems(*BODY),
)
def create_fence(
    conn: Conn,
    who: Annotated[Principal, Depends(require(Family.FENCES_WRITE))],
    body: Feature,
    source_crs: SourceCrs = "wgs84",
) -> dict[str, Any]:
    """Coordinates drawn on Chinese web maps (gcj02, bd09) are converted to WGS-84."""
    return fences.insert_fence(conn, _parse(body, source_crs), source_crs=source_crs).to_feature()


@router.put("/{fence_id:int}", summary="Replace a fence", response_model=FenceFeature, responses=problems(404, *BODY))
def replace_fence(
    conn: Conn,
    who: Annotated[Principal, Depends(require(Family.FENCES_WRITE))],
    fence_id: FenceIdPath,
    body: Feature,
    source_crs: SourceCrs = "wgs84",
) -> dict[str, Any]:
    """The fence's definition and loan bindings are replaced."""
    try:
        fences.update_fence(conn, _parse(body, source_crs, fence_id))
        return _features(conn, [fences.get_fence(conn, FenceId(fence_id))])[0]
    except FenceNotFound as exc:
        raise NotFound(f"fence {fence_id} does not exist") from exc


@router.delete("/{fence_id:int}", status_code=204, summary="Delete a fence", responses=problems(404))
def delete_fence(
    conn: Conn, who: Annotated[Principal, Depends(require(Family.FENCES_WRITE))], fence_id: FenceIdPath
) -> Response:
    """Its loan bindings go with it."""
    if not fences.delete_fence(conn, FenceId(fence_id)):
        raise NotFound(f"fence {fence_id} does not exist")
    return Response(status_code=204)


@router.post(
    "/import",
    status_code=201,
    summary="Bulk import risk zones (all or nothing)",
    response_model=FencesImported,
    responses=problems(*BODY),
)
def import_risk_zones(
    conn: Conn,
    who: Annotated[Principal, Depends(require(Family.FENCES_WRITE))],
    body: FeatureCollection,
    source_crs: SourceCrs = "wgs84",
) -> dict[str, Any]:
    """Every feature must be a risk zone; errors name the feature index."""
    parsed = [_parse(f, source_crs, where=f"features[{i}]: ") for i, f in enumerate(body.features)]
    for i, fence in enumerate(parsed):
        if fence.kind != FenceKind.RISK_ZONE:
            raise Unprocessable(f"features[{i}].properties.kind: must be risk_zone", field="properties.kind")
    with conn.transaction():
        created = [fences.insert_fence(conn, f, source_crs=source_crs) for f in parsed]
    return {"created": len(created), "fence_ids": [int(f.fence_id) for f in created]}
