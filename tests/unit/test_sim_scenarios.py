"""Each scenario produces the trajectory its label claims, on concrete thresholds from DESIGN.md."""

from datetime import UTC, datetime

import numpy as np
import pytest

from domain.geo import haversine_m, haversines_m
from domain.vocabulary import AlertKind, DeviceAlarm, RiskZoneType
from simulators.cities import REGIONS, zones_in
from simulators.fleet import Member
from simulators.labels import Label
from simulators.routine import local_hour
from simulators.simulation import SimConfig, Simulation, simulate
from simulators.trackers import ALARM_BITS, GPS, Fixes

START = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)  # a Monday, 08:00 in Shanghai


@pytest.fixture(scope="module", params=[11, 12, 13])
def sim(request: pytest.FixtureRequest) -> Simulation:
    return simulate(SimConfig(vehicles=60, days=5, seed=request.param, start=START))


def member_of(sim: Simulation, scenario: str) -> Member:
    found = [m for m in sim.fleet.members if m.scenario == scenario]
    assert len(found) == 1, f"{scenario}: expected one car, found {len(found)}"
    return found[0]


def labels_of(sim: Simulation, member: Member, kind: AlertKind | None = None) -> list[Label]:
    return [lb for lb in sim.labels if lb.loan_id == member.loan.loan_id and (kind is None or lb.kind == kind)]


def fixes_of(sim: Simulation, device_id: str) -> Fixes:
    index = [d.device_id for d in sim.devices].index(device_id)
    return sim.fixes.take(sim.fixes.device == index)


def test_every_scenario_was_laid(sim: Simulation) -> None:
    assert sim.skipped == ()
    assert {m.scenario for m in sim.fleet.members if m.scenario} == {
        "relocation", "risk_zone_dwell", "long_idle", "power_cut", "device_separation", "tow", "jamming",
        "reappeared_far", "gps_jump", "region_exit", "parks_beside_pawn_shop", "underground_garage",
        "holiday_trip", "taxi_heavy_user", "wireless_once_a_day", "garage_nights",
        "border_weave", "exit_then_silence", "drive_by_risk_zone", "parks_in_fence_band",
    }  # fmt: skip


def test_relocated_car_spends_two_nights_over_80_km_from_home(sim: Simulation) -> None:
    m = member_of(sim, "relocation")
    (lb,) = labels_of(sim, m, AlertKind.RELOCATION)
    wired = fixes_of(sim, m.wired.device_id)
    home_lat, home_lon = m.loan.home_lat, m.loan.home_lon
    assert home_lat is not None and home_lon is not None
    for night in (lb.start, lb.start + 86_400):  # 22:00 local, two nights running
        at_night = (wired.t >= night) & (wired.t < night + 8 * 3600)
        assert at_night.sum() >= 6  # hourly heartbeats while parked
        assert haversines_m(home_lat, home_lon, wired.lat[at_night], wired.lon[at_night]).min() > 80_000
    assert local_hour(lb.start) == 22.0
    (exit_label,) = labels_of(sim, m, AlertKind.REGION_EXIT)
    region = REGIONS[m.loan.bound_region or ""]
    track = sim.tracks[m.index]
    assert region.contains(*track.position_at(exit_label.start - 1))
    assert not region.contains(*track.position_at(exit_label.start))


def test_dwell_car_stays_inside_the_pawn_shop_over_30_minutes(sim: Simulation) -> None:
    m = member_of(sim, "risk_zone_dwell")
    enter = labels_of(sim, m, AlertKind.RISK_ZONE_ENTER)[0]
    dwell = labels_of(sim, m, AlertKind.RISK_ZONE_DWELL)[0]
    t_enter = enter.start + 60
    assert dwell.start == t_enter + 1800
    wired = fixes_of(sim, m.wired.device_id)
    zone = min(
        zones_in(m.city, RiskZoneType.PAWN_SHOP),
        key=lambda z: haversine_m(z.lat, z.lon, *sim.tracks[m.index].position_at(dwell.start)),
    )
    # Inside by the Home Assistant rule: distance − accuracy < radius, on every fix of the stay.
    during = (wired.t >= t_enter) & (wired.t <= dwell.end - 300)  # until the exit
    d = haversines_m(zone.lat, zone.lon, wired.lat[during], wired.lon[during]) - wired.accuracy_m[during]
    assert during.sum() >= 3
    assert d.max() < zone.radius_m
    assert wired.t[during].max() - t_enter >= 1800


def test_idle_car_stays_within_200_m_for_72_hours(sim: Simulation) -> None:
    m = member_of(sim, "long_idle")
    (lb,) = labels_of(sim, m, AlertKind.LONG_IDLE)
    t_stop = lb.start - 24 * 3600
    wired = fixes_of(sim, m.wired.device_id)
    idle = (wired.t >= t_stop) & (wired.t <= t_stop + 72 * 3600)
    assert idle.sum() >= 72
    d = haversines_m(wired.lat[idle][0], wired.lon[idle][0], wired.lat[idle], wired.lon[idle])
    assert d.max() < 200.0
    assert np.all(wired.speed_kmh[idle] == 0.0)


def test_towed_car_moves_over_20_kmh_with_ignition_off_for_120_s(sim: Simulation) -> None:
    m = member_of(sim, "tow")
    (lb,) = labels_of(sim, m, AlertKind.TOW)
    wired = fixes_of(sim, m.wired.device_id)
    towing = (wired.t >= lb.start - 120) & (wired.t < lb.end - 300) & (wired.speed_kmh > 0)
    assert wired.t[towing].max() - wired.t[towing].min() >= 120
    assert wired.speed_kmh[towing].min() > 20.0
    assert np.all(wired.ignition[towing] == 0)


def test_power_cut_then_wired_silent_while_wireless_reports(sim: Simulation) -> None:
    m = member_of(sim, "power_cut")
    (cut,) = labels_of(sim, m, AlertKind.POWER_CUT)
    (offline,) = labels_of(sim, m, AlertKind.OFFLINE)
    assert offline.start == cut.start + 24 * 3600
    wired = fixes_of(sim, m.wired.device_id)
    assert wired.t[-1] == cut.start
    assert wired.alarms[-1] & ALARM_BITS[DeviceAlarm.POWER_CUT]
    assert wired.power_v[-1] == 0.0
    assert m.wireless is not None
    wireless = fixes_of(sim, m.wireless.device_id)
    assert (wireless.t > cut.start + 6 * 3600).sum() >= 1


def test_separated_units_report_over_1_km_apart_within_10_minutes(sim: Simulation) -> None:
    m = member_of(sim, "device_separation")
    (lb,) = labels_of(sim, m, AlertKind.DEVICE_SEPARATION)
    assert m.wireless is not None
    wired, wireless = fixes_of(sim, m.wired.device_id), fixes_of(sim, m.wireless.device_id)
    t_pair = lb.start + 600
    (i,) = np.flatnonzero(wireless.t == t_pair)
    near = np.abs(wired.t - t_pair) <= 600
    assert near.any()
    assert haversines_m(wireless.lat[i], wireless.lon[i], wired.lat[near], wired.lon[near]).min() > 1_000.0
    assert wireless.source[i] == GPS


def test_gps_jump_implies_over_300_kmh(sim: Simulation) -> None:
    m = member_of(sim, "gps_jump")
    (lb,) = labels_of(sim, m, AlertKind.GPS_JUMP)
    wired = fixes_of(sim, m.wired.device_id)
    (i,) = np.flatnonzero(wired.t == lb.start + 60)
    metres = haversine_m(wired.lat[i - 1], wired.lon[i - 1], wired.lat[i], wired.lon[i])
    kmh = metres / (wired.t[i] - wired.t[i - 1]) * 3.6
    assert kmh > 300.0


def test_jamming_alarm_then_three_hours_of_silence(sim: Simulation) -> None:
    m = member_of(sim, "jamming")
    (lb,) = labels_of(sim, m, AlertKind.JAMMING)
    wired = fixes_of(sim, m.wired.device_id)
    (i,) = np.flatnonzero(wired.t == lb.start)
    assert wired.alarms[i] & ALARM_BITS[DeviceAlarm.JAMMING]
    assert wired.t[i + 1] - wired.t[i] >= 3 * 3600


def test_reappears_over_50_km_away_after_6_hours(sim: Simulation) -> None:
    m = member_of(sim, "reappeared_far")
    (lb,) = labels_of(sim, m, AlertKind.REAPPEARED_FAR)
    wired = fixes_of(sim, m.wired.device_id)
    (i,) = np.flatnonzero(wired.t == lb.start)
    assert wired.t[i] - wired.t[i - 1] >= 6 * 3600
    assert haversine_m(wired.lat[i - 1], wired.lon[i - 1], wired.lat[i], wired.lon[i]) > 50_000.0


def test_region_exit_leaves_the_bound_region(sim: Simulation) -> None:
    m = member_of(sim, "region_exit")
    (lb,) = labels_of(sim, m, AlertKind.REGION_EXIT)
    region = REGIONS[m.loan.bound_region or ""]
    wired = fixes_of(sim, m.wired.device_id)
    out = (wired.t >= lb.start) & (wired.t <= lb.end)
    assert out.sum() >= 2
    assert haversines_m(region.lat, region.lon, wired.lat[out], wired.lon[out]).min() > region.radius_m


def test_parks_beside_stays_80_m_outside_the_fence_edge(sim: Simulation) -> None:
    m = member_of(sim, "parks_beside_pawn_shop")
    (lb,) = labels_of(sim, m)
    assert lb.negative and lb.kind is None
    edges = []
    for device in m.devices:
        f = fixes_of(sim, device.device_id)
        window = (f.t >= lb.start) & (f.t <= lb.end) & (f.source == GPS)
        for zone in zones_in(m.city):
            edges.append(haversines_m(zone.lat, zone.lon, f.lat[window], f.lon[window]) - zone.radius_m)
    gap = np.concatenate(edges)
    assert gap.min() >= 80.0
    assert gap.min() <= 175.0  # beside the fence indeed: 110-150 m plus at most 25 m of drift


def test_underground_garage_is_silent_one_night_and_still_at_home(sim: Simulation) -> None:
    m = member_of(sim, "underground_garage")
    (lb,) = labels_of(sim, m)
    wired = fixes_of(sim, m.wired.device_id)
    assert not ((wired.t > lb.start - 30) & (wired.t < lb.end + 30)).any()
    before, after = np.flatnonzero(wired.t < lb.start)[-1], np.flatnonzero(wired.t > lb.end)[0]
    assert wired.t[after] - wired.t[before] >= 8 * 3600
    assert wired.t[after] - wired.t[before] < 24 * 3600  # shorter than the wired offline threshold


def test_holiday_trip_is_one_night_away_inside_the_region(sim: Simulation) -> None:
    m = member_of(sim, "holiday_trip")
    (lb,) = labels_of(sim, m)
    region = REGIONS[m.loan.bound_region or ""]
    assert m.loan.bound_region in ("CN-YRD", "CN-JJJ")
    wired = fixes_of(sim, m.wired.device_id)
    home = m.places.home
    away = haversines_m(home[0], home[1], wired.lat, wired.lon) > 80_000
    night = np.asarray([local_hour(int(t)) < 5 for t in wired.t])
    nights_away = {int(t) // 86_400 for t in wired.t[away & night]}
    assert len(nights_away) == 1
    assert haversines_m(region.lat, region.lon, wired.lat, wired.lon).max() < region.radius_m
    assert haversine_m(home[0], home[1], *sim.tracks[m.index].position_at(lb.end)) < 50.0


def test_taxi_drives_over_ten_hours_a_day(sim: Simulation) -> None:
    track = sim.tracks[member_of(sim, "taxi_heavy_user").index]
    moving_s = np.diff(track.t)[track.speed_kmh > 0].sum()
    assert moving_s / 5 > 10 * 3600


def test_once_a_day_wireless_reports_every_24_hours(sim: Simulation) -> None:
    m = member_of(sim, "wireless_once_a_day")
    assert m.wireless is not None and m.wireless.scheduled_interval_s == 86_400
    wireless = fixes_of(sim, m.wireless.device_id)
    assert len(wireless) == 5
    assert set(np.diff(wireless.t).tolist()) == {86_400}
