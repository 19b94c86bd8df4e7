"""Fence rows in and out of the fences and fence_loans tables, as geofence.Fence values.

Geometry is stored as a GeoJSON geometry in WGS-84 (jsonb); fences drawn on Chinese web maps are
converted on import and keep their original datum in source_crs for the record.
"""

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from psycopg.types.json import Jsonb

from domain.ids import FenceId, LoanId
from domain.vocabulary import FenceKind, RiskZoneType
from geofence.fence import Fence
from geofence.geojson import geometry_to_geojson, parse_geometry
from geofence.hours import ActiveHours
from storage.database import Connection
from storage.errors import StorageError


class FenceNotFound(StorageError, KeyError):
    """No fence has this id."""


_INSERT = """
    INSERT INTO fences (name, kind, subtype, geometry, radius_m, is_global, active_hours, dwell_s, source_crs)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
    RETURNING fence_id
"""

_UPDATE = """
    UPDATE fences
       SET name = %s, kind = %s, subtype = %s, geometry = %s, radius_m = %s, is_global = %s,
           active_hours = %s, dwell_s = %s, updated_at = now()
     WHERE fence_id = %s
"""

_SELECT = """
    SELECT f.fence_id, f.name, f.kind, f.subtype, f.geometry, f.radius_m, f.is_global,
           f.active_hours, f.dwell_s,
           coalesce(array_agg(fl.loan_id ORDER BY fl.loan_id) FILTER (WHERE fl.loan_id IS NOT NULL),
                    '{}') AS loan_ids
      FROM fences f
      LEFT JOIN fence_loans fl ON fl.fence_id = f.fence_id
"""

# The active set: global fences, and loan-bound fences with at least one loan still monitored
# (DESIGN.md: settled loans stop being monitored); their settled loans are left out of loan_ids.
_SELECT_ACTIVE = (
    _SELECT
    + """
      LEFT JOIN loans l ON l.loan_id = fl.loan_id
     WHERE f.is_global OR l.status <> 'settled'
     GROUP BY f.fence_id
    HAVING f.is_global OR count(fl.loan_id) > 0
     ORDER BY f.fence_id
"""
)


def _row_values(fence: Fence) -> tuple[Any, ...]:
    return (
        fence.name,
        fence.kind.value,
        fence.subtype.value if fence.subtype else None,
        Jsonb(geometry_to_geojson(fence.geometry)),
        fence.radius_m,
        fence.is_global,
        str(fence.active_hours) if fence.active_hours else None,
        fence.dwell_s,
    )


def _fence(row: tuple[Any, ...]) -> Fence:
    fence_id, name, kind, subtype, geometry, radius_m, is_global, active_hours, dwell_s, loan_ids = row
    return Fence(
        fence_id=FenceId(fence_id),
        name=name,
        kind=FenceKind(kind),
        geometry=parse_geometry(geometry),
        radius_m=radius_m,
        subtype=RiskZoneType(subtype) if subtype else None,
        is_global=is_global,
        loan_ids=frozenset(LoanId(x) for x in loan_ids) if not is_global else frozenset(),
        active_hours=ActiveHours.parse(active_hours) if active_hours else None,
        dwell_s=dwell_s,
    )


def insert_fence(conn: Connection, fence: Fence, *, source_crs: str = "wgs84") -> Fence:
    """Insert a fence (already in WGS-84) and its loan bindings; returns it with its new id."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(_INSERT, (*_row_values(fence), source_crs))
        row = cur.fetchone()
        assert row is not None
        fence_id = FenceId(row[0])
        _bind(conn, fence_id, fence.loan_ids)
    return _with_id(fence, fence_id)


def import_feature(conn: Connection, feature: Mapping[str, Any], *, source_crs: str = "wgs84") -> Fence:
    """Insert a fence from a GeoJSON Feature drawn in source_crs (wgs84, gcj02 or bd09)."""
    fence = Fence.from_feature(feature, fence_id=FenceId(0), source_crs=source_crs)
    return insert_fence(conn, fence, source_crs=source_crs)


def update_fence(conn: Connection, fence: Fence) -> None:
    """Replace a fence's definition and its loan bindings."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(_UPDATE, (*_row_values(fence), fence.fence_id))
        if cur.rowcount == 0:
            raise FenceNotFound(fence.fence_id)
        cur.execute("DELETE FROM fence_loans WHERE fence_id = %s", (fence.fence_id,))
        _bind(conn, fence.fence_id, fence.loan_ids)


def delete_fence(conn: Connection, fence_id: FenceId) -> bool:
    """Delete a fence (its bindings go with it); False when there was none."""
    cur = conn.execute("DELETE FROM fences WHERE fence_id = %s", (fence_id,))
    return cur.rowcount > 0


def get_fence(conn: Connection, fence_id: FenceId) -> Fence:
    """One fence by id."""
    row = conn.execute(f"{_SELECT} WHERE f.fence_id = %s GROUP BY f.fence_id", (fence_id,)).fetchone()
    if row is None:
        raise FenceNotFound(fence_id)
    return _fence(row)


def list_fences(conn: Connection, *, kind: FenceKind | None = None) -> list[Fence]:
    """All fences (of one kind, if given), by id."""
    rows = conn.execute(
        f"{_SELECT} WHERE %(kind)s::text IS NULL OR f.kind = %(kind)s GROUP BY f.fence_id ORDER BY f.fence_id",
        {"kind": kind.value if kind else None},
    ).fetchall()
    return [_fence(r) for r in rows]


def bind_loans(conn: Connection, fence_id: FenceId, loan_ids: Iterable[LoanId]) -> None:
    """Bind a fence to more loans; it stops being global."""
    with conn.transaction():
        cur = conn.execute("UPDATE fences SET is_global = false, updated_at = now() WHERE fence_id = %s", (fence_id,))
        if cur.rowcount == 0:
            raise FenceNotFound(fence_id)
        _bind(conn, fence_id, loan_ids)


def unbind_loans(conn: Connection, fence_id: FenceId, loan_ids: Iterable[LoanId]) -> None:
    """Remove loan bindings from a fence (it stays loan-bound, watching no loan if none remain)."""
    conn.execute("DELETE FROM fence_loans WHERE fence_id = %s AND loan_id = ANY(%s)", (fence_id, list(loan_ids)))


def load_active_fences(conn: Connection) -> list[Fence]:
    """The fence set the index is built from: global fences and those watching a monitored loan."""
    return [_fence(r) for r in conn.execute(_SELECT_ACTIVE).fetchall()]


def _bind(conn: Connection, fence_id: FenceId, loan_ids: Iterable[LoanId]) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO fence_loans (fence_id, loan_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            [(fence_id, loan) for loan in loan_ids],
        )


def _with_id(fence: Fence, fence_id: FenceId) -> Fence:
    return replace(fence, fence_id=fence_id)
