"""The simulated world: real cities, their bound regions and a base of risk zones near real places.

Coordinates are WGS-84 (what a tracker's GPS reports), approximate to a few hundred metres: good
enough to put a pawn shop "near Xujiahui" without pretending to be a survey. A loan's bound
region names its real city by adcode (310000 Shanghai, 330100 Hangzhou, 320500 Suzhou, 110000
Beijing, 120000 Tianjin); scenarios draw their routes against a circle around the city, which
ignores rivers, coasts and county lines, and the fleet run seeds that circle as the loan's own
allowed_region fence, so region exit and relocation judge simulated cars on the shape they were
drawn on. The metropolitan circles (CN-YRD, CN-JJJ) are custom regions of that kind only: no
province or city spans them.
"""

from dataclasses import dataclass
from typing import Any

from domain.geo import haversine_m
from domain.vocabulary import FenceKind, RiskZoneType


@dataclass(frozen=True, slots=True)
class BoundRegion:
    """The simulated shape of an allowed region: a named circle (keyed by the region it stands for)."""

    region_id: str
    name: str
    lat: float
    lon: float
    radius_m: float

    def contains(self, lat: float, lon: float) -> bool:
        """True when the point lies inside the region."""
        return haversine_m(self.lat, self.lon, lat, lon) <= self.radius_m

    def feature(self) -> dict[str, Any]:
        """The region as a GeoJSON Feature (circle = Point + radius_m)."""
        return {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [self.lon, self.lat]},
            "properties": {
                "kind": FenceKind.ALLOWED_REGION.value,
                "region_id": self.region_id,
                "name": self.name,
                "radius_m": self.radius_m,
            },
        }


@dataclass(frozen=True, slots=True)
class City:
    key: str
    name: str
    lat: float
    lon: float
    region_id: str  # the city's own bound region
    wider_region_id: str  # a metropolitan region containing a nearby city
    far_city: str  # a real city > 80 km away: relocation and holiday destination
    plate_prefixes: tuple[str, ...]
    # Homes, workplaces and errands lie within this distance of the centre, so an ordinary day never
    # leaves the bound region and two places in one city are never 50 km apart.
    place_radius_m: float = 20_000.0


@dataclass(frozen=True, slots=True)
class RiskZone:
    """A place where financed cars are pledged, sold or held: a circle with a dwell threshold."""

    zone_id: str
    name: str
    subtype: RiskZoneType
    city: str
    lat: float
    lon: float
    radius_m: float
    dwell_s: int = 1800  # CN practice: "entering is a warning, staying (30 min) is the risk"

    def feature(self) -> dict[str, Any]:
        """The zone as a GeoJSON Feature (circle = Point + radius_m)."""
        return {
            "type": "Feature",
            "id": self.zone_id,
            "geometry": {"type": "Point", "coordinates": [self.lon, self.lat]},
            "properties": {
                "radius_m": self.radius_m,
                "kind": FenceKind.RISK_ZONE.value,
                "subtype": self.subtype.value,
                "name": self.name,
                "dwell_s": self.dwell_s,
                "city": self.city,
            },
        }


CITIES: dict[str, City] = {
    c.key: c
    for c in (
        City(
            "shanghai",
            "Shanghai",
            31.2304,
            121.4737,
            "310000",
            "CN-YRD",
            "hangzhou",
            ("沪A", "沪B", "沪D", "沪E", "沪F"),
        ),
        City("hangzhou", "Hangzhou", 30.2741, 120.1551, "330100", "CN-YRD", "shanghai", ("浙A",)),
        City("suzhou", "Suzhou", 31.3105, 120.6240, "320500", "CN-YRD", "hangzhou", ("苏E",)),
        City(
            "beijing", "Beijing", 39.9042, 116.4074, "110000", "CN-JJJ", "tianjin", ("京A", "京B", "京E", "京N", "京Q")
        ),
        City("tianjin", "Tianjin", 39.1255, 117.1901, "120000", "CN-JJJ", "beijing", ("津A", "津B", "津C")),
    )
}

# Share of the fleet financed in each city.
CITY_WEIGHTS: dict[str, float] = {
    "shanghai": 0.35,
    "beijing": 0.25,
    "hangzhou": 0.15,
    "suzhou": 0.15,
    "tianjin": 0.10,
}

REGIONS: dict[str, BoundRegion] = {
    r.region_id: r
    for r in (
        BoundRegion("310000", "Shanghai", 31.2304, 121.4737, 45_000.0),
        BoundRegion("330100", "Hangzhou", 30.2741, 120.1551, 35_000.0),
        BoundRegion("320500", "Suzhou", 31.3105, 120.6240, 30_000.0),
        BoundRegion("110000", "Beijing", 39.9042, 116.4074, 45_000.0),
        BoundRegion("120000", "Tianjin", 39.1255, 117.1901, 35_000.0),
        # Loans bound to a metropolitan area may travel between its cities.
        BoundRegion("CN-YRD", "Yangtze River Delta (Shanghai, Suzhou, Hangzhou)", 30.85, 120.85, 150_000.0),
        BoundRegion("CN-JJJ", "Beijing-Tianjin", 39.52, 116.80, 120_000.0),
    )
}

_P, _S, _U, _I = (
    RiskZoneType.PAWN_SHOP,
    RiskZoneType.SECOND_LIEN_LENDER,
    RiskZoneType.USED_CAR_MARKET,
    RiskZoneType.IMPOUND_LOT,
)

# Zones in one city are at least 2 km apart, so "beside one" is never "inside another".
RISK_ZONES: tuple[RiskZone, ...] = (
    RiskZone("rz-sh-01", "Pawn shop near Xujiahui", _P, "shanghai", 31.1945, 121.4365, 120.0),
    RiskZone("rz-sh-02", "Pawn shop near Zhongshan Park", _P, "shanghai", 31.2235, 121.4160, 120.0),
    RiskZone("rz-sh-03", "Pawn shop near Wujiaochang", _P, "shanghai", 31.3005, 121.5140, 120.0),
    RiskZone("rz-sh-04", "Car-pledge lot, Xinzhuang (Minhang)", _S, "shanghai", 31.1110, 121.3850, 250.0),
    RiskZone("rz-sh-05", "Car-pledge lot, Dachang (Baoshan)", _S, "shanghai", 31.3450, 121.4100, 250.0),
    RiskZone("rz-sh-06", "Used-car market off Cao'an Road", _U, "shanghai", 31.2540, 121.3700, 350.0),
    RiskZone("rz-sh-07", "Impound lot, Zhangjiang (Pudong)", _I, "shanghai", 31.2050, 121.5900, 200.0),
    RiskZone("rz-hz-01", "Pawn shop near Wulin Square", _P, "hangzhou", 30.2760, 120.1640, 120.0),
    RiskZone("rz-hz-02", "Pawn shop in Xiaoshan", _P, "hangzhou", 30.1650, 120.2650, 120.0),
    RiskZone("rz-hz-03", "Car-pledge lot near Banshan (Gongshu)", _S, "hangzhou", 30.3500, 120.1700, 250.0),
    RiskZone("rz-hz-04", "Used-car market, Jiubao", _U, "hangzhou", 30.3450, 120.2700, 350.0),
    RiskZone("rz-hz-05", "Impound lot, Binjiang", _I, "hangzhou", 30.2050, 120.2000, 200.0),
    RiskZone("rz-sz-01", "Pawn shop near Guanqian Street", _P, "suzhou", 31.3110, 120.6230, 120.0),
    RiskZone("rz-sz-02", "Pawn shop near Jinji Lake (SIP)", _P, "suzhou", 31.3150, 120.7200, 120.0),
    RiskZone("rz-sz-03", "Car-pledge lot, Wuzhong", _S, "suzhou", 31.2450, 120.6200, 250.0),
    RiskZone("rz-sz-04", "Used-car market, Xiangcheng", _U, "suzhou", 31.3800, 120.6200, 350.0),
    RiskZone("rz-sz-05", "Impound lot, New District", _I, "suzhou", 31.2950, 120.5300, 200.0),
    RiskZone("rz-bj-01", "Pawn shop near Dongdan", _P, "beijing", 39.9120, 116.4180, 120.0),
    RiskZone("rz-bj-02", "Pawn shop near Wangjing", _P, "beijing", 39.9960, 116.4700, 120.0),
    RiskZone("rz-bj-03", "Car-pledge lot, Tongzhou", _S, "beijing", 39.9100, 116.6560, 250.0),
    RiskZone("rz-bj-04", "Huaxiang used-car market (Fengtai)", _U, "beijing", 39.8320, 116.2850, 350.0),
    RiskZone("rz-bj-05", "Impound lot, Daxing", _I, "beijing", 39.7400, 116.3400, 200.0),
    RiskZone("rz-tj-01", "Pawn shop near Binjiang Avenue", _P, "tianjin", 39.1250, 117.2000, 120.0),
    RiskZone("rz-tj-02", "Car-pledge lot, Dongli", _S, "tianjin", 39.0900, 117.3100, 250.0),
    RiskZone("rz-tj-03", "Used-car market, Xiqing", _U, "tianjin", 39.1400, 117.0800, 350.0),
    RiskZone("rz-tj-04", "Impound lot, Beichen", _I, "tianjin", 39.2200, 117.1400, 200.0),
)


def risk_zone_features() -> list[dict[str, Any]]:
    """Every risk zone as a GeoJSON Feature dict (Point + radius_m, kind risk_zone)."""
    return [zone.feature() for zone in RISK_ZONES]


def region_features() -> list[dict[str, Any]]:
    """Every bound region as a GeoJSON Feature dict (Point + radius_m, kind allowed_region)."""
    return [region.feature() for region in REGIONS.values()]


def zones_in(city: str, subtype: RiskZoneType | None = None) -> tuple[RiskZone, ...]:
    """The risk zones of one city, optionally of one subtype."""
    return tuple(z for z in RISK_ZONES if z.city == city and (subtype is None or z.subtype == subtype))
