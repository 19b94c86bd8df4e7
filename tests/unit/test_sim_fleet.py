"""The fleet model: loans over all buckets, valid identities, and ordinary cars that raise nothing."""

from datetime import UTC, datetime

import numpy as np
import pytest
import shapely

from domain.geo import haversine_m, haversines_m
from domain.vocabulary import Bucket, DeviceKind, LoanStatus
from geofence.admin_regions import admin_regions
from simulators.cities import CITIES, REGIONS, RISK_ZONES, region_features, risk_zone_features
from simulators.fleet import COLLECTORS, build_fleet
from simulators.identities import vin_check_digit
from simulators.simulation import SimConfig, Simulation, simulate
from simulators.trackers import GPS

START = int(datetime(2026, 11, 2, tzinfo=UTC).timestamp())


def test_loans_cover_every_bucket_with_collectors_and_some_holds() -> None:
    fleet = build_fleet(vehicles=500, days=3, seed=5, start=START)
    loans = fleet.loans()
    assert {loan.bucket for loan in loans} == set(Bucket)
    assert {loan.assigned_collector for loan in loans} == set(COLLECTORS)
    assert 3 <= sum(1 for loan in loans if loan.holds) <= 40  # about 3 %
    assert all(loan.status == LoanStatus.SETTLED for loan in loans if loan.outstanding_balance == 0)
    assert {loan.bound_region for loan in loans} == {c.region_id for c in CITIES.values()}
    for loan in loans:
        assert loan.home_lat is not None and loan.home_lon is not None
        assert REGIONS[loan.bound_region or ""].contains(loan.home_lat, loan.home_lon)


def test_identities_are_unique_and_vins_valid() -> None:
    fleet = build_fleet(vehicles=300, days=3, seed=5, start=START)
    vins = [v.vin for v in fleet.vehicles()]
    assert len(set(vins)) == 300
    for vin in vins:
        assert len(vin) == 17 and not set(vin) & set("IOQ")
        assert vin[8] == vin_check_digit(vin)
    assert vin_check_digit("1M8GDM9AXKP042788") == "X"  # the textbook example
    ids = [d.device_id for d in fleet.devices()]
    assert len(set(ids)) == len(ids)
    assert all(
        d.kind == DeviceKind.WIRED and d.moving_interval_s in range(10, 31)
        for d in fleet.devices()
        if d.device_id.endswith("-w")
    )
    wireless = [d for d in fleet.devices() if d.kind == DeviceKind.WIRELESS]
    assert 60 <= len(wireless) <= 120  # wireless_share 0.3 of 300
    assert {d.scheduled_interval_s for d in wireless} <= {86_400, 43_200, 28_800, 21_600}


def test_different_seed_different_fleet_same_seed_same_fleet() -> None:
    a = build_fleet(vehicles=20, days=3, seed=1, start=START)
    b = build_fleet(vehicles=20, days=3, seed=2, start=START)
    again = build_fleet(vehicles=20, days=3, seed=1, start=START)
    assert a == again
    assert {v.vin for v in a.vehicles()}.isdisjoint(v.vin for v in b.vehicles())
    assert [m.places.home for m in a.members] != [m.places.home for m in b.members]


def test_risk_zones_are_geojson_circles_two_km_apart() -> None:
    features = risk_zone_features()
    assert len(features) == len(RISK_ZONES) >= 20
    for f in features:
        assert f["type"] == "Feature" and f["geometry"]["type"] == "Point"
        lon, lat = f["geometry"]["coordinates"]
        assert 115 < lon < 122 and 30 < lat < 41
        props = f["properties"]
        assert props["kind"] == "risk_zone"
        assert props["subtype"] in {"pawn_shop", "second_lien_lender", "used_car_market", "impound_lot"}
        assert 100 <= props["radius_m"] <= 400 and props["dwell_s"] == 1800 and props["name"]
    for i, z in enumerate(RISK_ZONES):
        for other in RISK_ZONES[i + 1 :]:
            assert haversine_m(z.lat, z.lon, other.lat, other.lon) > 2_000.0
    regions = {f["properties"]["region_id"]: f for f in region_features()}
    assert set(regions) >= {"310000", "330100", "320500", "110000", "120000"}


def test_each_city_is_bound_to_the_real_city_it_lies_in() -> None:
    for city in CITIES.values():
        real = admin_regions().region(city.region_id)
        assert real.region_id == city.region_id and shapely.contains_xy(real.geometry, city.lon, city.lat), city.key


@pytest.fixture(scope="module")
def sim() -> Simulation:
    return simulate(SimConfig(vehicles=120, days=4, seed=21, start=datetime.fromtimestamp(START, UTC)))


def _ordinary_devices(sim: Simulation) -> list[int]:
    ids = {d.device_id for m in sim.fleet.members if m.scenario is None for d in m.devices}
    return [i for i, d in enumerate(sim.devices) if d.device_id in ids]


def test_ordinary_cars_never_enter_a_zone_nor_leave_their_region(sim: Simulation) -> None:
    ordinary = np.isin(sim.fixes.device, _ordinary_devices(sim))
    gps = sim.fixes.take(ordinary & (sim.fixes.source == GPS))
    assert len(gps) > 50_000
    for z in RISK_ZONES:
        margin = haversines_m(z.lat, z.lon, gps.lat, gps.lon) - gps.accuracy_m - z.radius_m
        assert margin.min() > 50.0, z.zone_id
    for m in sim.fleet.members:
        if m.scenario is None:
            region = REGIONS[m.loan.bound_region or ""]
            lat, lon = sim.tracks[m.index].lat, sim.tracks[m.index].lon
            assert haversines_m(region.lat, region.lon, lat, lon).max() < region.radius_m


def test_ordinary_cars_never_idle_a_day_tow_or_jump(sim: Simulation) -> None:
    for m in sim.fleet.members:
        if m.scenario is not None:
            continue
        track = sim.tracks[m.index]
        still = np.diff(track.t)[track.speed_kmh == 0.0]
        assert still[:-1].max() < 24 * 3600  # the last stay is cut by the end of the period
        assert not np.any((track.speed_kmh > 0) & ~track.ignition)
    wired = [i for i in _ordinary_devices(sim) if sim.devices[i].wired]
    f = sim.fixes.take(np.isin(sim.fixes.device, wired))
    same = np.diff(f.device) == 0
    kmh = haversines_m(f.lat[:-1], f.lon[:-1], f.lat[1:], f.lon[1:]) / np.maximum(np.diff(f.t), 1) * 3.6
    assert kmh[same].max() < 200.0


def test_ordinary_wired_and_wireless_gps_fixes_agree_within_1_km(sim: Simulation) -> None:
    pairs = 0
    for m in sim.fleet.members:
        if m.scenario is not None or m.wireless is None:
            continue
        index = [d.device_id for d in sim.devices]
        w = sim.fixes.take(sim.fixes.device == index.index(m.wired.device_id))
        b = sim.fixes.take((sim.fixes.device == index.index(m.wireless.device_id)) & (sim.fixes.source == GPS))
        for t, lat, lon in zip(b.t, b.lat, b.lon, strict=True):
            near = np.abs(w.t - t) <= 600
            if near.any():
                pairs += 1
                assert haversines_m(lat, lon, w.lat[near], w.lon[near]).min() < 1_000.0
    assert pairs >= 20
