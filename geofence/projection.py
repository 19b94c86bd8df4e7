"""Local metric frames: degrees to metres around a reference latitude, vectorised.

An equirectangular frame scaled by the WGS-84 radii of curvature at a reference latitude φ0:
x = N(φ0)·cos φ0·Δλ, y = M(φ0)·Δφ. Error bound (first order): north–south distances are exact on
the ellipsoid to O(Δφ²); east–west components are off by a relative |tan φ0 · (φ − φ0)| because
the parallel's length changes with latitude. Used around a position (mid-latitude of the pair,
circles) the error is second order: below 1 cm over 10 km in China's latitudes. Used around a
polygon's centroid, a fix 50 km north or south of it at 31° N sees east–west boundary distances off
by ≈ 0.5 %: 0.25 m on a 50 m margin, and inside/outside itself is decided exactly (see index.py).
"""

from typing import Final

import numpy as np
import numpy.typing as npt

from domain.geo import haversines_m

Floats = npt.NDArray[np.float64]

WGS84_A: Final = 6378137.0
WGS84_E2: Final = 6.69437999014e-3
_DEG: Final = np.pi / 180.0


def metres_per_degree(lat: npt.ArrayLike) -> tuple[Floats, Floats]:
    """(metres per degree of longitude, metres per degree of latitude) at these latitudes."""
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    w = 1.0 - WGS84_E2 * np.sin(phi) ** 2
    n = WGS84_A / np.sqrt(w)  # prime-vertical radius of curvature
    m = WGS84_A * (1.0 - WGS84_E2) / (w * np.sqrt(w))  # meridional radius of curvature
    return n * np.cos(phi) * _DEG, m * _DEG


def distance_m(lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike) -> Floats:
    """Distance in metres between point pairs: the detectors' great circle (domain.geo)."""
    return haversines_m(
        np.asarray(lat1, dtype=np.float64),
        np.asarray(lon1, dtype=np.float64),
        np.asarray(lat2, dtype=np.float64),
        np.asarray(lon2, dtype=np.float64),
    )
