"""Stay points (Li et al. 2008), the home cluster on a simulated month, and relocation thresholds."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.ids import DeviceId
from domain.position import Position
from geofence.admin_regions import admin_regions
from geofence.home import (
    RELOCATION_DISTANCE_M,
    Home,
    home_cluster,
    night_of,
    outside_region,
    overnight_far,
)
from geofence.projection import distance_m, metres_per_degree
from geofence.signals import RelocationReason
from geofence.staypoints import StayPoint, stay_points

HOME = (31.1125, 121.3817)  # a residential compound in Minhang, Shanghai
WORK = (31.2304, 121.4737)  # People's Square
FRIEND = (31.1900, 121.4400)  # Xuhui, ~10 km from home
HOTEL = (30.2590, 120.1300)  # Hangzhou, ~150 km away
START = datetime(2026, 10, 1, tzinfo=UTC) - timedelta(hours=8)  # 1 Oct 2026 00:00 in Shanghai


def offset(point: tuple[float, float], north_m: float, east_m: float) -> tuple[float, float]:
    kx, ky = (float(v) for v in metres_per_degree(point[0]))
    return point[0] + north_m / ky, point[1] + east_m / kx


def simulate_month(seed: int) -> list[Position]:
    """30 days of a commuter: home nights (two in a Hangzhou hotel), work days, some evenings out."""
    rng = np.random.default_rng(seed)
    out: list[Position] = []
    device = DeviceId("car-home")

    def stay(where: tuple[float, float], start: datetime, hours: float, every_s: float = 600) -> None:
        t = start
        while t < start + timedelta(hours=hours):
            lat, lon = offset(where, *rng.normal(0, 15, 2))
            out.append(Position(device, t, lat, lon, t, accuracy_m=float(rng.uniform(5, 30))))
            if rng.random() < 0.05:  # a stray cell-tower fix a couple of km off: coarse, ignored
                lat, lon = offset(where, *rng.normal(0, 2000, 2))
                out.append(Position(device, t + timedelta(seconds=1), lat, lon, t, accuracy_m=1500, source="lbs"))
            t += timedelta(seconds=every_s)

    def drive(a: tuple[float, float], b: tuple[float, float], start: datetime, minutes: int) -> None:
        for k in range(minutes):
            f = k / minutes
            t = start + timedelta(minutes=k)
            lat, lon = a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f
            out.append(Position(device, t, lat, lon, t, accuracy_m=10.0, speed_kmh=40.0))

    for day in range(30):
        d0 = START + timedelta(days=day)
        night_at = HOTEL if day in (11, 12) else HOME
        stay(night_at, d0, 7.5)
        drive(night_at, WORK, d0 + timedelta(hours=7.5), 45 if night_at == HOME else 120)
        stay(WORK, d0 + timedelta(hours=9.5 if night_at == HOTEL else 8.25), 8.5 if night_at == HOTEL else 9.75)
        if rng.random() < 0.3:
            drive(WORK, FRIEND, d0 + timedelta(hours=18), 30)
            stay(FRIEND, d0 + timedelta(hours=18.5), 3.5)
            nxt = HOTEL if day + 1 in (11, 12) else HOME
            drive(FRIEND, nxt, d0 + timedelta(hours=22), 40 if nxt == HOME else 110)
            stay(nxt, d0 + timedelta(hours=22 + (40 if nxt == HOME else 110) / 60), 1.5)
        else:
            nxt = HOTEL if day + 1 in (11, 12) else HOME
            drive(WORK, nxt, d0 + timedelta(hours=18), 45 if nxt == HOME else 120)
            stay(nxt, d0 + timedelta(hours=20), 4.0)
    return out


def stay_points_of(positions: list[Position]) -> list[StayPoint]:
    """Stay points of one device's positions, coarse fixes left out, as relocation reads them."""
    fine = sorted((p for p in positions if not p.coarse), key=lambda p: p.ts)
    return stay_points([p.ts.timestamp() for p in fine], [p.lat for p in fine], [p.lon for p in fine])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_home_on_a_simulated_month_is_within_200_m_of_the_true_home(seed: int) -> None:
    positions = simulate_month(seed)
    stays = stay_points_of(positions)
    home = home_cluster(stays, now=START + timedelta(days=30))
    assert home is not None
    assert float(distance_m(HOME[0], HOME[1], home.lat, home.lon)) < 200.0
    assert home.nights >= 26  # 30 nights less the hotel ones, less the month's edges
    # The work place has the longest stays but is no overnight place.
    assert float(distance_m(WORK[0], WORK[1], home.lat, home.lon)) > 10_000


def test_stay_point_needs_twenty_minutes_within_two_hundred_metres() -> None:
    t = np.arange(0, 19 * 60 + 1, 60.0)  # 19 minutes parked
    lat = np.full(t.size, WORK[0])
    lon = np.full(t.size, WORK[1])
    assert stay_points(t, lat, lon) == []
    t20 = np.arange(0, 20 * 60 + 1, 60.0)
    (stay,) = stay_points(t20, np.full(t20.size, WORK[0]), np.full(t20.size, WORK[1]))
    assert stay.duration_s == 1200.0 and stay.fixes == 21


def test_stay_point_ends_at_the_last_fix_within_the_radius() -> None:
    # 30 min at work, then a fix 250 m away (beyond 200 m) and driving on.
    t = np.arange(0, 31 * 60, 60.0)
    lats = [WORK[0]] * t.size + [offset(WORK, 250, 0)[0], offset(WORK, 2000, 0)[0]]
    times = [*t.tolist(), t[-1] + 60, t[-1] + 120]
    (stay,) = stay_points(times, lats, [WORK[1]] * len(lats))
    assert stay.left == datetime.fromtimestamp(t[-1], UTC)
    assert float(distance_m(WORK[0], WORK[1], stay.lat, stay.lon)) < 1.0


def test_moving_car_has_no_stay_points() -> None:
    t = np.arange(0, 3600, 30.0)
    lat = WORK[0] + np.arange(t.size) * 0.003  # ~330 m every 30 s
    assert stay_points(t, lat, np.full(t.size, WORK[1])) == []


def _plain_stay_points(t: list[float], lat: list[float], lon: list[float]) -> list[StayPoint]:
    """Li et al.'s algorithm as written, one anchor at a time, no shortcut."""
    stays, i = [], 0
    while i < len(t):
        j = i + 1
        while j < len(t) and float(distance_m(lat[i], lon[i], lat[j], lon[j])) <= 200.0:
            j += 1
        if t[j - 1] - t[i] >= 20 * 60:
            mean = (float(np.mean(lat[i:j])), float(np.mean(lon[i:j])))
            arrived, left = datetime.fromtimestamp(t[i], UTC), datetime.fromtimestamp(t[j - 1], UTC)
            stays.append(StayPoint(mean[0], mean[1], arrived, left, j - i))
            i = j
        else:
            i += 1
    return stays


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(1.0, 900.0),  # seconds since the previous fix
            st.sampled_from([0.0, 30.0, 150.0, 199.0, 201.0, 400.0, 3000.0]),  # metres moved north
        ),
        min_size=1,
        max_size=120,
    )
)
def test_stay_points_match_the_plain_algorithm(steps: list[tuple[float, float]]) -> None:
    t, lat, lon = [], [], []
    now, north_m = 0.0, 0.0
    for gap, moved in steps:
        now += gap
        north_m += moved
        t.append(now)
        lat.append(offset(WORK, north_m, 0)[0])
        lon.append(WORK[1])
    found = stay_points(t, lat, lon)
    plain = _plain_stay_points(t, lat, lon)
    assert [(s.arrived, s.left, s.fixes) for s in found] == [(s.arrived, s.left, s.fixes) for s in plain]
    assert all(abs(a.lat - b.lat) < 1e-9 for a, b in zip(found, plain, strict=True))


def sp(where: tuple[float, float], arrived: datetime, hours: float) -> StayPoint:
    return StayPoint(where[0], where[1], arrived, arrived + timedelta(hours=hours), 10)


def local(day: int, hour: float) -> datetime:
    """UTC instant of a Shanghai local time in November 2026."""
    return datetime(2026, 11, day, tzinfo=UTC) - timedelta(hours=8) + timedelta(hours=hour)


def test_night_of_needs_two_hours_of_the_night() -> None:
    assert night_of(sp(HOME, local(5, 21), 1.5)) is None  # 21:00–22:30: 30 min of night
    assert night_of(sp(HOME, local(5, 21), 3.0)) == date(2026, 11, 5)  # to midnight: 2 h
    assert night_of(sp(HOME, local(6, 3), 5)) == date(2026, 11, 5)  # 03:00–08:00 is the 5th's night


FAR = offset(HOME, RELOCATION_DISTANCE_M + 5_000, 0)  # 85 km north
NEAR = offset(HOME, RELOCATION_DISTANCE_M - 1_000, 0)  # 79 km north
HOME_CLUSTER = Home(HOME[0], HOME[1], nights=25, stays=30)
NOW = local(20, 12)


def test_two_far_nights_in_the_week_are_a_relocation() -> None:
    stays = [sp(FAR, local(17, 21), 10), sp(FAR, local(18, 21), 10)]
    signal = overnight_far(stays, HOME_CLUSTER, now=NOW)
    assert signal is not None and signal.reason is RelocationReason.OVERNIGHT_FAR
    assert len(signal.evidence) == 2 and signal.threshold_m == RELOCATION_DISTANCE_M


def test_one_far_night_or_two_at_79_km_are_not() -> None:
    assert overnight_far([sp(FAR, local(17, 21), 10)], HOME_CLUSTER, now=NOW) is None
    near = [sp(NEAR, local(17, 21), 10), sp(NEAR, local(18, 21), 10)]
    assert overnight_far(near, HOME_CLUSTER, now=NOW) is None
    same_night = [sp(FAR, local(17, 21), 2.5), sp(FAR, local(18, 0.5), 5)]  # two stays, one night
    assert overnight_far(same_night, HOME_CLUSTER, now=NOW) is None
    old = [sp(FAR, local(9, 21), 10), sp(FAR, local(18, 21), 10)]  # the first is 11 days ago
    assert overnight_far(old, HOME_CLUSTER, now=NOW) is None


def region_track(hours_outside: float, *, coarse_inside: bool = False, gps_inside: bool = False) -> Any:
    """Fixes: two hours in Shanghai, then hourly in Hangzhou (outside Shanghai) for hours_outside."""
    ts: list[datetime] = [local(10, 0), local(10, 1)]
    lat, lon = [WORK[0], WORK[0]], [WORK[1], WORK[1]]
    coarse = [False, False]
    steps = int(hours_outside)
    for h in range(steps + 1):
        ts.append(local(10, 2 + h * hours_outside / steps))
        lat.append(HOTEL[0])
        lon.append(HOTEL[1])
        coarse.append(False)
        if h == steps // 2 and (coarse_inside or gps_inside):
            ts.append(local(10, 2 + h * hours_outside / steps) + timedelta(minutes=5))
            lat.append(WORK[0])
            lon.append(WORK[1])
            coarse.append(coarse_inside)
    return ts, lat, lon, [10.0] * len(ts), coarse


def test_twenty_four_hours_outside_the_bound_region() -> None:
    shanghai = admin_regions().region("CN-SH")
    assert outside_region(*region_track(23.9), region=shanghai) is None
    signal = outside_region(*region_track(24.0), region=shanghai)
    assert signal is not None and signal.reason is RelocationReason.OUTSIDE_REGION
    assert signal.region_id == "310000" and signal.at == local(10, 26)
    # A cell fix "in Shanghai" decides nothing; a GPS fix there restarts the clock.
    assert outside_region(*region_track(24.0, coarse_inside=True), region=shanghai) is not None
    assert outside_region(*region_track(24.0, gps_inside=True), region=shanghai) is None
