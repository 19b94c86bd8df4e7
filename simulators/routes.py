"""Where ordinary cars go and which way: places and paths that keep clear of risk zones.

Ground truth must be clean: an unlabelled car that happens to drive through a pawn shop's fence
would make a correct detector look wrong. So ordinary places are drawn at least PLACE_GAP_M from
any zone edge, and paths are bent (L-shaped like a street grid, or detoured) until every leg clears
all zones by PATH_GAP_M, except the zone a scenario deliberately drives into or beside.
"""

import itertools
import math

import numpy as np

from domain.geo import haversine_m, haversines_m
from simulators.cities import CITIES, RISK_ZONES
from simulators.geo import destination, segment_clearance_m

Point = tuple[float, float]

PLACE_GAP_M = 500.0
PATH_GAP_M = 150.0
HIGHWAY_M = 40_000.0  # longer trips go by expressway: nearly straight, faster

_ZLAT = np.asarray([z.lat for z in RISK_ZONES])
_ZLON = np.asarray([z.lon for z in RISK_ZONES])
_ZR = np.asarray([z.radius_m for z in RISK_ZONES])


def clear_of_zones(lat: float, lon: float, gap_m: float = PLACE_GAP_M) -> bool:
    """True when the point is at least gap_m outside every risk zone's edge."""
    return bool(np.all(haversines_m(lat, lon, _ZLAT, _ZLON) - _ZR >= gap_m))


def safe_place(city: str, rng: np.random.Generator, *, near: Point | None = None, min_m: float = 0.0) -> Point:
    """A random ordinary place in the city, clear of risk zones (and at least min_m from `near`)."""
    c = CITIES[city]
    for _ in range(1000):
        # sqrt of a uniform draw spreads points evenly over the disc.
        r = c.place_radius_m * math.sqrt(rng.random())
        lat, lon = destination(c.lat, c.lon, rng.random() * 360.0, r)
        if not clear_of_zones(lat, lon):
            continue
        if near is not None and haversine_m(near[0], near[1], lat, lon) < min_m:
            continue
        return lat, lon
    raise ValueError(f"city {city}: no place clear of risk zones found (min_m={min_m})")


def _legs_clear(points: list[Point], exempt: np.ndarray) -> bool:
    for (a_lat, a_lon), (b_lat, b_lon) in itertools.pairwise(points):
        clearance = segment_clearance_m(a_lat, a_lon, b_lat, b_lon, _ZLAT, _ZLON) - _ZR
        if np.any((clearance < PATH_GAP_M) & ~exempt):
            return False
    return True


def route(a: Point, b: Point, rng: np.random.Generator) -> list[Point]:
    """Waypoints from a to b (a excluded, b included) whose legs clear every risk zone.

    Zones within 300 m of either end are exempt: a scenario that parks in or beside a zone
    approaches it on a deliberate last leg.
    """
    near_end = (haversines_m(a[0], a[1], _ZLAT, _ZLON) - _ZR < 300.0) | (
        haversines_m(b[0], b[1], _ZLAT, _ZLON) - _ZR < 300.0
    )
    length = haversine_m(a[0], a[1], b[0], b[1])
    candidates: list[list[Point]] = []
    if length > HIGHWAY_M:
        mid = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
        candidates.append([mid, b])
    else:
        first = [(a[0], b[1]), b]
        second = [(b[0], a[1]), b]
        candidates += [first, second] if rng.random() < 0.5 else [second, first]
    # Detours: a via point near each end (3 km out, or a quarter of the way), pushed sideways.
    course = math.degrees(math.atan2((b[1] - a[1]) * math.cos(math.radians(a[0])), b[0] - a[0]))
    near = min(3_000.0, length / 4) / max(length, 1.0)
    q1 = (a[0] + (b[0] - a[0]) * near, a[1] + (b[1] - a[1]) * near)
    q3 = (b[0] - (b[0] - a[0]) * near, b[1] - (b[1] - a[1]) * near)
    sideways = (0.0, 800.0, -800.0, 2000.0, -2000.0, 4000.0, -4000.0)
    for s1 in sideways:
        for s3 in sideways:
            candidates.append([destination(*q1, course + 90.0, s1), destination(*q3, course + 90.0, s3), b])
    for points in candidates:
        if _legs_clear([a, *points], near_end):
            return points
    raise ValueError(f"no route from {a} to {b} clears the risk zones")


def drive_speed(length_m: float, rng: np.random.Generator) -> float:
    """A plausible average speed for a trip of this length, km/h."""
    if length_m > HIGHWAY_M:
        return float(rng.uniform(85.0, 110.0))
    return float(rng.uniform(22.0, 48.0))
