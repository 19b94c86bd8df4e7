"""The water between a region's own shores, which a land outline leaves out and a car crosses.

Amap's outlines are land. A car on a bridge or a ferry between two shores of one region — the
Jiaozhou Bay bridge within Qingdao, the Zhoushan island chain, the Yangtze crossing to Chongming —
would be outside the outline for minutes, and region exit would fire on every trip. So an outline
is closed (grown, then shrunk, by WATER_CLOSING_DEG): what that adds lies in the region's
concavities narrower than twice that distance; less any land of China or of its land neighbours,
it is water between the region's own shores, and joins the outline. Open sea, a bay wider than
that, and a neighbour's land (a notch of Vietnam or Myanmar in a border province) stay outside.
"""

import threading
from collections.abc import Callable
from typing import Final

import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

# 0.1° is 11 km north-south, 9–10 km east-west in China: straits and bay necks up to about 20 km
# wide between a region's own shores are filled (the Jiaozhou Bay bridge spans 26 km of a bay
# whose northern arm is narrower than that; Hangzhou Bay, 30–100 km, is not filled).
WATER_CLOSING_DEG: Final = 0.1
# Closing a coarse copy is 50x faster on a coast of hundreds of islands (Zhoushan: 3.2 s → 0.06 s);
# it is grown by this much more so the water it adds still meets the exact shore (the sea it adds
# within this distance of a convex shore is harmless: nothing drives there).
_COARSE_DEG: Final = 0.01
_CHINA_LAND: Final = "administrative/amap/land/100000.geojson"
# Outward-rounded extents (lon, lat) of the land neighbours' outlines in the package, so only the
# ones near a region are ever read.
_NEIGHBOURS: Final = {
    "AFG": (60, 29, 75, 39),
    "BTN": (88, 26, 93, 29),
    "IND": (68, 6, 98, 37),
    "KAZ": (46, 40, 88, 56),
    "KGZ": (69, 39, 81, 44),
    "LAO": (100, 13, 108, 23),
    "MMR": (92, 9, 102, 29),
    "MNG": (87, 41, 120, 53),
    "NPL": (80, 26, 89, 31),
    "PAK": (60, 23, 76, 37),
    "PRK": (124, 37, 131, 44),
    "RUS": (-180, 41, 180, 82),
    "TJK": (67, 36, 76, 42),
    "VNM": (102, 8, 110, 24),
}

# China's extent widened by the closing distance and more: no region's water reaches past it.
_NEAR_CHINA: Final = (72.0, 2.0, 137.0, 55.0)

Bounds = tuple[float, float, float, float]


def _overlaps(a: Bounds, b: Bounds) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


class Land:
    """China's land and its land neighbours' as masks, each read (and kept) on first use."""

    def __init__(self, read: Callable[[str], BaseGeometry]) -> None:
        """Masks read by `read` (a path under the package's datasets directory → WGS-84 outline)."""
        self._read = read
        self._masks: dict[str, BaseGeometry] = {}
        self._lock = threading.Lock()

    def _mask(self, key: str, relative: str) -> BaseGeometry:
        with self._lock:
            mask = self._masks.get(key)
            if mask is None:
                # Only the part near China is ever subtracted (Russia's whole outline is 300k vertices).
                mask = self._masks[key] = shapely.clip_by_rect(self._read(relative), *_NEAR_CHINA)
            return mask

    def near(self, bounds: Bounds) -> list[BaseGeometry]:
        """Every land mask that may reach into these bounds: China's, and the neighbours' there."""
        masks = [self._mask("CHN", _CHINA_LAND)]
        for iso3, extent in _NEIGHBOURS.items():
            if _overlaps(bounds, extent):
                masks.append(self._mask(iso3, f"administrative/cn-neighbors/land/{iso3}.geojson"))
        return masks


def with_shore_water(
    outline: Polygon | MultiPolygon, land: Land, *, closing_deg: float = WATER_CLOSING_DEG
) -> Polygon | MultiPolygon:
    """The outline with the water between its own shores (see the module's docstring)."""
    if closing_deg <= 0:
        return outline
    # Closed on a coarse copy, grown by its simplification error more than it is shrunk so the
    # result still reaches the exact shore; the land masks then cut it back to the water.
    coarse = shapely.simplify(outline, _COARSE_DEG, preserve_topology=False)
    grown = shapely.buffer(coarse, closing_deg + _COARSE_DEG, quad_segs=4)
    closed = shapely.buffer(grown, -closing_deg, quad_segs=4)
    added = shapely.difference(closed, outline)
    if added.is_empty:
        return outline
    for mask in land.near(tuple(shapely.bounds(added))):
        added = shapely.difference(added, shapely.clip_by_rect(mask, *shapely.bounds(added)))
        if added.is_empty:
            return outline
    merged = shapely.make_valid(shapely.union(outline, added))
    parts = [g for g in shapely.get_parts(merged) if isinstance(g, Polygon) and not g.is_empty]
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)
