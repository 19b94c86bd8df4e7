"""Small-scale geometry on WGS-84 points: offsets, bearings and clearances (distances: domain.geo).

The simulator works at city scale (tens to a few hundred kilometres), where a spherical earth is
accurate to well under a percent; that is far below the GPS noise it adds on purpose.
"""

import math

import numpy as np
import numpy.typing as npt

from domain.geo import EARTH_RADIUS_M

M_PER_DEG_LAT = math.pi * EARTH_RADIUS_M / 180.0

FloatArray = npt.NDArray[np.float64]


def offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    """The point north_m / east_m metres away (local flat approximation)."""
    dlat = north_m / M_PER_DEG_LAT
    dlon = east_m / (M_PER_DEG_LAT * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


def destination(lat: float, lon: float, bearing_deg: float, dist_m: float) -> tuple[float, float]:
    """The point dist_m metres away on the given compass bearing."""
    b = math.radians(bearing_deg)
    return offset(lat, lon, dist_m * math.cos(b), dist_m * math.sin(b))


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial compass bearing from point 1 to point 2, degrees in [0, 360)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(y, x)) % 360.0


def segment_clearance_m(
    lat1: float, lon1: float, lat2: float, lon2: float, plat: FloatArray, plon: FloatArray
) -> FloatArray:
    """Shortest distance from each point (plat, plon) to the segment 1→2, metres (local flat frame)."""
    k = M_PER_DEG_LAT * math.cos(math.radians((lat1 + lat2) / 2))
    ax, ay = 0.0, 0.0
    bx, by = (lon2 - lon1) * k, (lat2 - lat1) * M_PER_DEG_LAT
    px, py = (plon - lon1) * k, (plat - lat1) * M_PER_DEG_LAT
    length2 = bx * bx + by * by
    if length2 == 0.0:
        return np.asarray(np.hypot(px - ax, py - ay), dtype=np.float64)
    t = np.clip((px * bx + py * by) / length2, 0.0, 1.0)
    return np.asarray(np.hypot(px - t * bx, py - t * by), dtype=np.float64)
