"""The fence index: accuracy-aware membership on concrete Shanghai coordinates, and a property test
that the vectorised tree + exact test agrees with a brute-force shapely check over every pair."""

import math

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry

from domain.ids import FenceId
from domain.vocabulary import FenceKind
from geofence.fence import Fence
from geofence.index import MARGIN_M, FenceIndex
from geofence.projection import metres_per_degree

PAWN_LAT, PAWN_LON = 31.2304, 121.4737  # pawn shop near People's Square, Shanghai


def north_of(lat: float, lon: float, metres: float) -> tuple[float, float]:
    """The point due north at exactly `metres` in the index's metric (solved by iteration)."""
    target = lat + metres / float(metres_per_degree(lat)[1])
    for _ in range(5):
        target = lat + metres / float(metres_per_degree((lat + target) / 2)[1])
    return target, lon


def pawn_shop(radius_m: float = 100.0) -> Fence:
    return Fence(FenceId(1), "Pawn shop", FenceKind.RISK_ZONE, Point(PAWN_LON, PAWN_LAT), radius_m=radius_m)


def verdict(index: FenceIndex, lat: float, lon: float, acc: float) -> tuple[bool, bool]:
    m = index.evaluate([lat], [lon], [acc])
    if m.position.size == 0:
        return False, True
    return bool(m.inside[0]), bool(m.clear_out[0])


def test_fix_on_the_circle_boundary() -> None:
    index = FenceIndex.build([pawn_shop()])
    # HA's rule: inside when distance − accuracy < radius; a centimetre either side of the line
    # with a perfect fix decides it (exactly on it is floating-point noise, not a rule).
    lat, lon = north_of(PAWN_LAT, PAWN_LON, 100.01)
    assert verdict(index, lat, lon, 0.0) == (False, False)  # outside, but in the band
    assert verdict(index, lat, lon, 0.02) == (True, False)  # the accuracy circle overlaps
    lat, lon = north_of(PAWN_LAT, PAWN_LON, 99.99)
    assert verdict(index, lat, lon, 0.0) == (True, False)


def test_accuracy_larger_than_the_radius() -> None:
    index = FenceIndex.build([pawn_shop(100.0)])
    lat, lon = north_of(PAWN_LAT, PAWN_LON, 300.0)
    assert verdict(index, lat, lon, 250.0) == (True, False)  # 300 − 250 < 100
    assert verdict(index, lat, lon, 150.0) == (False, False)  # 300 − 150 − 100 = 50: not > margin
    assert verdict(index, lat, lon, 140.0) == (False, True)  # 60 m beyond: clearly outside


def test_margin_boundary_is_strict() -> None:
    index = FenceIndex.build([pawn_shop(100.0)])
    lat, lon = north_of(PAWN_LAT, PAWN_LON, 100.0 + MARGIN_M + 20.0)
    assert verdict(index, lat, lon, 20.01) == (False, False)  # 1 cm short of radius + margin
    assert verdict(index, lat, lon, 19.99) == (False, True)  # 1 cm past it: clearly outside


def test_far_fix_is_not_even_a_candidate() -> None:
    index = FenceIndex.build([pawn_shop()])
    lat, lon = north_of(PAWN_LAT, PAWN_LON, 10_000.0)
    pos, fen = index.candidates([lat], [lon], [30.0])
    assert pos.size == 0 and fen.size == 0
    assert verdict(index, lat, lon, 30.0) == (False, True)


def market_with_hole() -> Fence:
    # A 2 km square used-car market with a 1 km square hole (an office park) in the middle.
    kx, ky = (float(v) for v in metres_per_degree(PAWN_LAT))

    def square(half_m: float) -> list[tuple[float, float]]:
        dx, dy = half_m / kx, half_m / ky
        return [
            (PAWN_LON - dx, PAWN_LAT - dy),
            (PAWN_LON + dx, PAWN_LAT - dy),
            (PAWN_LON + dx, PAWN_LAT + dy),
            (PAWN_LON - dx, PAWN_LAT + dy),
            (PAWN_LON - dx, PAWN_LAT - dy),
        ]

    return Fence(FenceId(2), "Market", FenceKind.RISK_ZONE, Polygon(square(1000), [square(500)]))


def test_polygon_with_a_hole() -> None:
    index = FenceIndex.build([market_with_hole()])
    assert verdict(index, PAWN_LAT, PAWN_LON, 10.0) == (False, True)  # centre of the hole: 490 m to its edge
    assert verdict(index, PAWN_LAT, PAWN_LON, 480.0) == (False, False)  # 10 m short of the ring: the band
    assert verdict(index, PAWN_LAT, PAWN_LON, 520.0) == (True, False)  # accuracy reaches the ring
    lat, lon = north_of(PAWN_LAT, PAWN_LON, 750.0)  # in the ring itself
    assert verdict(index, lat, lon, 0.0) == (True, False)
    lat, lon = north_of(PAWN_LAT, PAWN_LON, 1030.0)  # 30 m outside the outer edge
    assert verdict(index, lat, lon, 5.0) == (False, False)
    assert verdict(index, lat, lon, 31.0) == (True, False)


def contained(index: FenceIndex, lat: float, lon: float, acc: float) -> bool:
    m = index.evaluate([lat], [lon], [acc])
    return bool(m.contained[0]) if m.position.size else False


def test_containment_shrinks_a_circle_by_the_accuracy() -> None:
    index = FenceIndex.build([pawn_shop(120.0)])
    lat, lon = north_of(PAWN_LAT, PAWN_LON, 126.0)
    assert verdict(index, lat, lon, 10.0) == (True, False)  # overlap: enough to stay inside
    assert not contained(index, lat, lon, 10.0)  # never enough to enter
    lat, lon = north_of(PAWN_LAT, PAWN_LON, 100.0)
    assert contained(index, lat, lon, 19.99)
    assert not contained(index, lat, lon, 20.01)


def test_containment_in_a_polygon_is_measured_from_its_nearest_edge_and_the_region_depth() -> None:
    index = FenceIndex.build([market_with_hole()])
    lat, lon = north_of(PAWN_LAT, PAWN_LON, 750.0)  # mid-ring: 250 m from both edges
    assert contained(index, lat, lon, 240.0)
    assert not contained(index, lat, lon, 260.0)
    region = Fence(FenceId(3), "Region", FenceKind.ALLOWED_REGION, market_with_hole().geometry)
    index = FenceIndex.build([region])
    assert contained(index, lat, lon, 190.0)  # 190 + the region's 50 m entry depth < 250
    assert not contained(index, lat, lon, 210.0)
    assert not contained(index, PAWN_LAT, PAWN_LON, 0.0)  # the hole is not the fence


def test_batch_rows_group_pairs_by_fix() -> None:
    index = FenceIndex.build([pawn_shop(), market_with_hole()])
    far_lat, far_lon = north_of(PAWN_LAT, PAWN_LON, 20_000.0)
    m = index.evaluate([far_lat, PAWN_LAT + 0.0001, far_lat], [far_lon, PAWN_LON, far_lon], [10, 10, 10])
    assert m.position[m.rows(0)].size == 0
    assert sorted(m.fence[m.rows(1)].tolist()) == [0, 1]
    assert m.position[m.rows(2)].size == 0


# --- property: the index agrees with a brute force over every pair -------------------------------


def _frame(lat0: float, lon0: float) -> tuple[float, float]:
    """Metres per degree (lon, lat) at lat0, from the WGS-84 radii, written out independently."""
    a, e2 = 6378137.0, 6.69437999014e-3
    s = math.sin(math.radians(lat0))
    w = 1 - e2 * s * s
    return a / math.sqrt(w) * math.cos(math.radians(lat0)) * math.pi / 180, a * (1 - e2) / w**1.5 * math.pi / 180


def brute(fence: Fence, lat: float, lon: float, acc: float) -> float | None:
    """Excess metres (distance beyond the boundary − accuracy) in a frame centred on the fix, or None
    when the fix lies in the polygon's interior."""
    kx, ky = _frame(lat, lon)

    def local(g: BaseGeometry) -> BaseGeometry:
        return shapely.transform(g, lambda c: np.column_stack(((c[:, 0] - lon) * kx, (c[:, 1] - lat) * ky)))

    here = Point(0.0, 0.0)
    if fence.is_circle:
        assert fence.radius_m is not None
        return float(here.distance(local(fence.geometry))) - fence.radius_m - acc
    shape = local(fence.geometry)
    if shape.contains(here):
        return None
    return float(here.distance(shape)) - acc


coords = st.tuples(st.floats(-0.02, 0.02), st.floats(-0.02, 0.02))


@st.composite
def fences(draw: st.DrawFn) -> list[Fence]:
    out: list[Fence] = []
    for i in range(draw(st.integers(1, 8))):
        dlat, dlon = draw(coords)
        if draw(st.booleans()):
            radius = draw(st.floats(5, 800))
            geom: BaseGeometry = Point(PAWN_LON + dlon, PAWN_LAT + dlat)
            out.append(Fence(FenceId(i), f"c{i}", FenceKind.RISK_ZONE, geom, radius_m=radius))
            continue
        pts = draw(st.lists(st.tuples(st.floats(-0.01, 0.01), st.floats(-0.01, 0.01)), min_size=3, max_size=8))
        hull = shapely.convex_hull(shapely.multipoints([(PAWN_LON + dlon + x, PAWN_LAT + dlat + y) for x, y in pts]))
        if hull.geom_type != "Polygon" or hull.area < 1e-7:
            continue
        if draw(st.booleans()):
            hole = shapely.affinity.scale(hull, 0.4, 0.4, origin="centroid")
            hull = Polygon(hull.exterior.coords, [hole.exterior.coords])
        out.append(Fence(FenceId(i), f"p{i}", FenceKind.RISK_ZONE, hull))
    return out


@settings(max_examples=150, deadline=None)
@given(
    fence_set=fences(),
    fixes=st.lists(st.tuples(coords, st.floats(0, 600)), min_size=1, max_size=25),
)
def test_index_agrees_with_brute_force(fence_set: list[Fence], fixes: list[tuple[tuple[float, float], float]]) -> None:
    if not fence_set:
        return
    index = FenceIndex.build(fence_set)
    lat = np.array([PAWN_LAT + d[0] * 1.5 for d, _ in fixes])
    lon = np.array([PAWN_LON + d[1] * 1.5 for d, _ in fixes])
    acc = np.array([a for _, a in fixes])
    m = index.evaluate(lat, lon, acc)
    got = {
        (int(p), int(f)): (bool(i), bool(c))
        for p, f, i, c in zip(m.position, m.fence, m.inside, m.clear_out, strict=True)
    }
    for p in range(lat.size):
        for f, fence in enumerate(fence_set):
            excess = brute(fence, float(lat[p]), float(lon[p]), float(acc[p]))
            if excess is not None and (abs(excess) < 1.0 or abs(excess - MARGIN_M) < 1.0):
                continue  # within a metre of a threshold: the two metric frames may round differently
            expected = (True, False) if excess is None else (excess < 0, excess > MARGIN_M)
            assert got.get((p, f), (False, True)) == expected, (p, f, excess)
