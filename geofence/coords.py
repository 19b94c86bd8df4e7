"""Chinese web-map datums to WGS-84: GCJ-02 (Amap, Tencent) and BD-09 (Baidu).

GCJ-02 is WGS-84 plus a published-by-leak, deterministic obfuscation offset of up to ~700 m; BD-09
adds Baidu's own rotation on top of GCJ-02. The forward formulas below are the standard public ones
(the "eviltransform" family: googollee/eviltransform, wandergis/coordtransform), using the Krasovsky
1940 semi-major axis as the originals do. The forward transforms are closed-form; their inverses
(GCJ-02 has none in closed form, BD-09's published one is ~0.1 m off) are solved by fixed-point
iteration until the residual is below 1e-9 degrees (~0.1 mm), far inside 0.01 m.

All functions take and return numpy arrays (or floats) of longitude and latitude, in that order,
as GeoJSON does.
"""

from collections.abc import Callable
from typing import Final

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
_Transform = Callable[[Floats, Floats], tuple[Floats, Floats]]

_A: Final = 6378245.0  # Krasovsky 1940 semi-major axis, as in the public GCJ-02 algorithm
_EE: Final = 0.00669342162296594323  # its first eccentricity squared
_X_PI: Final = np.pi * 3000.0 / 180.0  # BD-09's rotation constant
_INVERSE_TOLERANCE_DEG: Final = 1e-9
_INVERSE_MAX_ITERATIONS: Final = 30


def _as_arrays(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Floats, Floats]:
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def out_of_china(lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """True where the point lies outside the rough box in which GCJ-02 applies an offset."""
    x, y = _as_arrays(lon, lat)
    return (x < 72.004) | (x > 137.8347) | (y < 0.8293) | (y > 55.8271)


def _offset(lon: Floats, lat: Floats) -> tuple[Floats, Floats]:
    """GCJ-02 minus WGS-84, in degrees, at a WGS-84 point (zero outside China)."""
    x = lon - 105.0
    y = lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x)) + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x)) + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = np.radians(lat)
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    outside = out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Floats, Floats]:
    """WGS-84 to GCJ-02 (the closed-form forward transform)."""
    x, y = _as_arrays(lon, lat)
    dlon, dlat = _offset(x, y)
    return x + dlon, y + dlat


def _invert(forward: _Transform, tx: Floats, ty: Floats, x: Floats, y: Floats) -> tuple[Floats, Floats]:
    """The point `forward` maps onto (tx, ty), by fixed-point iteration from (x, y) until the
    residual is below _INVERSE_TOLERANCE_DEG."""
    for _ in range(_INVERSE_MAX_ITERATIONS):
        fx, fy = forward(x, y)
        ex, ey = fx - tx, fy - ty
        x, y = x - ex, y - ey
        if max(float(np.max(np.abs(ex), initial=0.0)), float(np.max(np.abs(ey), initial=0.0))) < (
            _INVERSE_TOLERANCE_DEG
        ):
            break
    return x, y


def gcj02_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Floats, Floats]:
    """GCJ-02 to WGS-84, by fixed-point iteration of the forward transform (< 1e-9 degrees)."""
    gx, gy = _as_arrays(lon, lat)
    return _invert(wgs84_to_gcj02, gx, gy, gx, gy)


def _bd09_to_gcj02_closed_form(bx: Floats, by: Floats) -> tuple[Floats, Floats]:
    x = bx - 0.0065
    y = by - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def bd09_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Floats, Floats]:
    """BD-09 to GCJ-02: the published closed form, refined to invert gcj02_to_bd09 exactly.

    BD-09 is defined by the forward transform; the closed-form inverse everybody copies is off by
    about 0.1 m, so it is only the starting point of the same fixed-point iteration as GCJ-02's.
    """
    bx, by = _as_arrays(lon, lat)
    return _invert(gcj02_to_bd09, bx, by, *_bd09_to_gcj02_closed_form(bx, by))


def gcj02_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Floats, Floats]:
    """GCJ-02 to BD-09 (the forward transform, used by tests and exports to Baidu maps)."""
    x, y = _as_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Floats, Floats]:
    """BD-09 to WGS-84, through GCJ-02."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike, crs: str) -> tuple[Floats, Floats]:
    """Convert from the named datum ('wgs84', 'gcj02' or 'bd09') to WGS-84."""
    if crs == "wgs84":
        return _as_arrays(lon, lat)
    if crs == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if crs == "bd09":
        return bd09_to_wgs84(lon, lat)
    raise ValueError(f"source_crs: must be one of wgs84, gcj02, bd09, got {crs!r}")
