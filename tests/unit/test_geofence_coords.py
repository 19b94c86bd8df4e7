"""GCJ-02 / BD-09 → WGS-84 against published reference pairs."""

import numpy as np
import pytest

from geofence.coords import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_wgs84,
    wgs84_to_gcj02,
)
from geofence.projection import distance_m

# (wgs lon, wgs lat, gcj lon, gcj lat). The first three are the test vectors of
# googollee/eviltransform (python/test.py: "shanghai", "shenzhen", "beijing"); the fourth is the
# example in wandergis/coordtransform's README and test/app.js (wgs84togcj02(116.404, 39.915)).
WGS_GCJ = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),
    (116.404, 39.915, 116.41024449916938, 39.91640428150164),
]
# (bd lon, bd lat, gcj lon, gcj lat) from wandergis/coordtransform test/app.js:
# bd09togcj02(116.404, 39.915) and gcj02tobd09(116.404, 39.915).
BD_GCJ = [(116.404, 39.915, 116.39762729119315, 39.90865673957631)]
GCJ_BD = [(116.404, 39.915, 116.41036949371029, 39.92133699351021)]


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), WGS_GCJ)
def test_forward_gcj02_matches_published_pairs(wlon: float, wlat: float, glon: float, glat: float) -> None:
    lon, lat = wgs84_to_gcj02(wlon, wlat)
    assert float(lon) == pytest.approx(glon, abs=1e-9)
    assert float(lat) == pytest.approx(glat, abs=1e-9)


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), WGS_GCJ)
def test_inverse_gcj02_recovers_the_published_wgs84_point_within_a_centimetre(
    wlon: float, wlat: float, glon: float, glat: float
) -> None:
    lon, lat = gcj02_to_wgs84(glon, glat)
    assert float(distance_m(wlat, wlon, lat, lon)) < 0.01


def test_inverse_gcj02_is_not_the_identity() -> None:
    # The offset in Shanghai is hundreds of metres: a no-op "conversion" must fail the pairs above.
    wlon, wlat, glon, glat = WGS_GCJ[0]
    assert float(distance_m(wlat, wlon, glat, glon)) > 300


@pytest.mark.parametrize(("blon", "blat", "glon", "glat"), BD_GCJ)
def test_bd09_to_gcj02_agrees_with_published_closed_form_within_its_error(
    blon: float, blat: float, glon: float, glat: float
) -> None:
    # The published pair comes from the closed-form inverse, itself ~0.1 m off the exact inverse.
    lon, lat = bd09_to_gcj02(blon, blat)
    assert float(distance_m(glat, glon, lat, lon)) < 0.3
    back_lon, back_lat = gcj02_to_bd09(lon, lat)
    assert float(distance_m(blat, blon, back_lat, back_lon)) < 0.01


@pytest.mark.parametrize(("glon", "glat", "blon", "blat"), GCJ_BD)
def test_gcj02_to_bd09_matches_published_pair(glon: float, glat: float, blon: float, blat: float) -> None:
    lon, lat = gcj02_to_bd09(glon, glat)
    assert (float(lon), float(lat)) == pytest.approx((blon, blat), abs=1e-9)


def test_bd09_to_wgs84_round_trips_a_shanghai_point_within_a_centimetre() -> None:
    wlon, wlat = 121.4737, 31.2304  # People's Square, Shanghai
    blon, blat = gcj02_to_bd09(*wgs84_to_gcj02(wlon, wlat))
    lon, lat = bd09_to_wgs84(blon, blat)
    assert float(distance_m(wlat, wlon, lat, lon)) < 0.01
    assert float(distance_m(wlat, wlon, blat, blon)) > 500  # BD-09 is far off WGS-84 there


def test_outside_china_gcj02_is_wgs84() -> None:
    lon, lat = wgs84_to_gcj02(2.3522, 48.8566)  # Paris
    assert (float(lon), float(lat)) == (2.3522, 48.8566)


def test_vectorised_conversion_matches_scalar() -> None:
    glon = np.array([p[2] for p in WGS_GCJ])
    glat = np.array([p[3] for p in WGS_GCJ])
    lon, lat = to_wgs84(glon, glat, "gcj02")
    for i, (wlon, wlat, *_) in enumerate(WGS_GCJ):
        assert float(distance_m(wlat, wlon, lat[i], lon[i])) < 0.01


def test_unknown_datum_is_rejected_by_name() -> None:
    with pytest.raises(ValueError, match="source_crs"):
        to_wgs84(121.0, 31.0, "wgs72")
