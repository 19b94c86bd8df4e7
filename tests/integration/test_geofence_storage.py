"""storage/fences.py against a migrated PostgreSQL: round trips, datum conversion, bindings, active set."""

import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest

from domain.assets import Loan, Vehicle
from domain.ids import FenceId, LoanId, Vin
from domain.vocabulary import FenceKind, LoanStatus
from geofence.coords import wgs84_to_gcj02
from geofence.fence import Fence
from geofence.geojson import parse_geometry
from geofence.hours import ActiveHours
from storage import fences as store
from storage.database import Connection, connect
from storage.loans import upsert_loans
from storage.vehicles import upsert_vehicles

pytestmark = pytest.mark.db

PAWN = (121.4737, 31.2304)


@pytest.fixture
def conn(migrated_db: str) -> Iterator[Connection]:
    with connect(migrated_db, autocommit=True) as c:
        yield c


@pytest.fixture
def loans(conn: Connection) -> tuple[LoanId, LoanId]:
    """An active and a settled loan of this test's own."""
    tag = uuid.uuid4().hex[:8]
    vin = Vin(f"VIN{tag}")
    upsert_vehicles(conn, [Vehicle(vin)])
    active, settled = LoanId(f"A-{tag}"), LoanId(f"S-{tag}")
    upsert_loans(conn, [Loan(active, vin), Loan(settled, vin, status=LoanStatus.SETTLED)])
    return active, settled


def pawn_feature(lon: float, lat: float) -> dict[str, object]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"name": "Pawn shop", "kind": "risk_zone", "subtype": "pawn_shop", "radius_m": 120},
    }


def test_gcj02_feature_is_stored_in_wgs84_and_round_trips(conn: Connection) -> None:
    glon, glat = wgs84_to_gcj02(*PAWN)
    fence = store.import_feature(conn, pawn_feature(float(glon), float(glat)), source_crs="gcj02")
    assert fence.fence_id > 0
    geometry, crs = conn.execute(
        "SELECT geometry, source_crs FROM fences WHERE fence_id = %s", (fence.fence_id,)
    ).fetchone() or (None, None)
    assert crs == "gcj02"
    assert geometry["type"] == "Point"
    assert geometry["coordinates"] == pytest.approx(list(PAWN), abs=1e-7)
    assert store.get_fence(conn, fence.fence_id) == fence


def test_polygon_with_hole_hours_and_loans_round_trip(conn: Connection, loans: tuple[LoanId, LoanId]) -> None:
    shell = [[121.40, 31.20], [121.50, 31.20], [121.50, 31.30], [121.40, 31.30], [121.40, 31.20]]
    hole = [[121.44, 31.24], [121.46, 31.24], [121.46, 31.26], [121.44, 31.26], [121.44, 31.24]]
    feature = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [shell, hole]},
        "properties": {
            "name": "Second-lien lot",
            "kind": "risk_zone",
            "subtype": "second_lien_lender",
            "active_hours": "22:00-06:00",
            "dwell_s": 600,
            "loan_ids": [loans[0]],
        },
    }
    fence = store.import_feature(conn, feature)
    again = store.get_fence(conn, fence.fence_id)
    assert again == fence
    assert again.loan_ids == {loans[0]} and not again.is_global
    assert again.active_hours == ActiveHours.parse("22:00-06:00") and again.dwell_s == 600
    assert again.to_feature()["geometry"]["coordinates"] == [shell, hole]


def test_update_bind_unbind_and_delete(conn: Connection, loans: tuple[LoanId, LoanId]) -> None:
    fence = store.import_feature(conn, pawn_feature(*PAWN))
    store.update_fence(conn, replace(fence, name="Renamed", radius_m=80.0))
    assert store.get_fence(conn, fence.fence_id).name == "Renamed"
    store.bind_loans(conn, fence.fence_id, [loans[0]])
    bound = store.get_fence(conn, fence.fence_id)
    assert not bound.is_global and bound.loan_ids == {loans[0]} and bound.radius_m == 80.0
    store.unbind_loans(conn, fence.fence_id, [loans[0]])
    assert store.get_fence(conn, fence.fence_id).loan_ids == frozenset()
    assert store.delete_fence(conn, fence.fence_id)
    assert not store.delete_fence(conn, fence.fence_id)
    with pytest.raises(store.FenceNotFound):
        store.get_fence(conn, fence.fence_id)
    with pytest.raises(store.FenceNotFound):
        store.update_fence(conn, fence)


def test_active_set_leaves_out_fences_of_settled_loans_only(conn: Connection, loans: tuple[LoanId, LoanId]) -> None:
    active, settled = loans
    point = Fence(
        FenceId(0),
        "Home",
        FenceKind.HOME,
        parse_geometry(pawn_feature(*PAWN)["geometry"]),
        radius_m=150,
        is_global=False,
        loan_ids=frozenset({active, settled}),
    )
    both = store.insert_fence(conn, point)
    only_settled = store.insert_fence(conn, replace(point, loan_ids=frozenset({settled})))
    global_zone = store.import_feature(conn, pawn_feature(*PAWN))
    by_id = {f.fence_id: f for f in store.load_active_fences(conn)}
    assert by_id[both.fence_id].loan_ids == {active}
    assert only_settled.fence_id not in by_id
    assert by_id[global_zone.fence_id].is_global
    kinds = {f.kind for f in store.list_fences(conn, kind=FenceKind.HOME)}
    assert kinds == {FenceKind.HOME}
