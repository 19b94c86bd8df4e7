"""Per-device motion detectors: late fixes, edge-triggered alarms, tow, reappearance far away, GPS jumps
with outlier confirmation, stops and long idle, coarse fixes — each threshold at, just under and just over."""

import dataclasses
import math
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest

from alerts.motion import DeviceState, observe
from alerts.signal import Ended, Signal
from alerts.thresholds import Thresholds
from domain.geo import EARTH_RADIUS_M, haversine_m
from domain.ids import DeviceId
from domain.position import Position
from domain.vocabulary import AlertKind, DeviceKind

LAT, LON = 31.2304, 121.4737  # People's Square, Shanghai
M_PER_DEG_LAT = EARTH_RADIUS_M * math.pi / 180  # ≈ 111,195 m per degree of latitude
DEV = DeviceId("wired-1")
T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
TH = Thresholds()
HOUR = 3600.0


def north(metres: float) -> float:
    """The latitude `metres` north of People's Square, never more than `metres` away by haversine_m."""
    lat = LAT + metres / M_PER_DEG_LAT
    while haversine_m(LAT, LON, lat, LON) > metres:
        lat = math.nextafter(lat, -math.inf)
    assert metres - haversine_m(LAT, LON, lat, LON) < 1e-6
    return lat


def exactly(metres: float) -> tuple[float, float]:
    """A point whose haversine_m from People's Square is exactly `metres` (bisecting on longitude, a
    second-order term north of the square, until the float result lands on the value)."""
    lat = north(metres)
    for _ in range(50):
        lo, hi = LON, LON + 1e-3
        while lo < hi:
            mid = (lo + hi) / 2
            if mid in (lo, hi):
                break
            d = haversine_m(LAT, LON, lat, mid)
            if d == metres:
                return lat, mid
            lo, hi = (mid, hi) if d < metres else (lo, mid)
        lat = math.nextafter(lat, -math.inf)
    raise AssertionError(f"no point exactly {metres} m from People's Square")


def fix(
    seconds: float,
    north_m: float = 0.0,
    *,
    acc: float | None = 5.0,
    speed: float | None = None,
    ignition: bool | None = None,
    source: str = "gps",
    alarms: Iterable[str] = (),
) -> Position:
    ts = T0 + timedelta(seconds=seconds)
    return Position(
        DEV,
        ts,
        north(north_m),
        LON,
        ts,
        accuracy_m=acc,
        speed_kmh=speed,
        ignition=ignition,
        source=source,
        alarms=tuple(alarms),
    )


def run(
    fixes: Iterable[Position], state: DeviceState | None = None, th: Thresholds = TH
) -> tuple[DeviceState, list[Signal | Ended]]:
    st = state if state is not None else DeviceState()
    out: list[Signal | Ended] = []
    for p in fixes:
        st, found = observe(st, p, th)
        out += found
    return st, out


def kinds(signals: Iterable[Signal | Ended]) -> list[str]:
    return [s.kind.value + (" clears" if isinstance(s, Ended) else "") for s in signals]


def parked(hours: float, *, every_h: float = 6.0) -> list[Position]:
    """Fixes from T0 to T0 + hours, every `every_h`, jittering 0 / 120 m around People's Square."""
    n = int(hours // every_h)
    fixes = [fix(i * every_h * HOUR, 120.0 * (i % 2)) for i in range(n + 1)]
    if n * every_h < hours:
        fixes.append(fix(hours * HOUR, 0.0))
    return fixes


# the test helpers themselves


def test_north_places_points_at_the_distance_asked() -> None:
    assert haversine_m(LAT, LON, north(200.0), LON) == pytest.approx(200.0, abs=1e-6)
    assert haversine_m(LAT, LON, north(50_000.0), LON) == pytest.approx(50_000.0, abs=1e-6)
    assert north(111_195.0) == pytest.approx(LAT + 1.0, abs=1e-4)  # ≈ 111,195 m per degree


# late fixes


def test_a_fix_older_than_the_last_one_changes_nothing() -> None:
    state, _ = run([fix(0), fix(60, 30)])
    late = fix(30, 100_000.0, alarms=["power_cut"], speed=80, ignition=False)
    after, signals = observe(state, late, TH)
    assert after == state
    assert signals == []


def test_a_duplicate_timestamp_is_late() -> None:
    state, _ = run([fix(0), fix(60, 30)])
    after, signals = observe(state, fix(60, 5_000.0, alarms=["tamper"]), TH)
    assert (after, signals) == (state, [])


def test_a_fix_older_than_the_last_coarse_report_is_late_too() -> None:
    state, _ = run([fix(0), fix(120, source="lbs", acc=800.0)])
    assert state.fix_ts == T0
    after, signals = observe(state, fix(90, 2_000.0, alarms=["jamming"]), TH)
    assert (after, signals) == (state, [])


def test_the_first_trusted_fix_places_the_car_and_starts_a_stay() -> None:
    state, signals = run([fix(0, 10.0, acc=12.0)])
    assert signals == []
    assert (state.last_ts, state.fix_ts, state.anchor_ts) == (T0, T0, T0)
    assert (state.lat, state.lon, state.accuracy_m) == (north(10.0), LON, 12.0)


# device alarms


@pytest.mark.parametrize(
    ("alarm", "kind"),
    [
        ("power_cut", AlertKind.POWER_CUT),
        ("tamper", AlertKind.TAMPER),
        ("removal", AlertKind.TAMPER),  # torn out is tampering
        ("jamming", AlertKind.JAMMING),
        ("stolen", AlertKind.TOW),  # JT/T 808 bit 26: the car left without its owner
        ("illegal_move", AlertKind.TOW),  # JT/T 808 bit 28: displaced while parked
    ],
)
def test_an_alarm_raises_its_signal_for_the_device(alarm: str, kind: AlertKind) -> None:
    _, signals = run([fix(0), fix(30, alarms=[alarm])])
    assert [s.kind for s in signals] == [kind]
    (signal,) = signals
    assert (signal.device_id, signal.subject, signal.at) == (DEV, DEV, T0 + timedelta(seconds=30))
    assert signal.evidence["alarm"] == alarm
    assert signal.evidence["fix"]["alarms"] == [alarm]


@pytest.mark.parametrize("alarm", ["low_battery", "sos", "something_new"])
def test_alarms_outside_the_vocabulary_of_alerts_raise_nothing(alarm: str) -> None:
    _, signals = run([fix(0, alarms=[alarm]), fix(30, alarms=[alarm])])
    assert signals == []


def test_an_alarm_repeated_on_consecutive_fixes_raises_once() -> None:
    _, signals = run([fix(s, alarms=["power_cut"]) for s in (0, 30, 60, 90)])
    assert kinds(signals) == ["power_cut"]
    assert signals[0].at == T0


def test_an_alarm_that_disappears_and_reappears_raises_again() -> None:
    fixes = [
        fix(0, alarms=["power_cut"]),
        fix(30, alarms=["power_cut"]),
        fix(60),  # gone
        fix(90, alarms=["power_cut"]),  # back
        fix(120, alarms=["power_cut"]),
    ]
    _, signals = run(fixes)
    assert [(s.kind, s.at) for s in signals] == [
        (AlertKind.POWER_CUT, T0),
        (AlertKind.POWER_CUT, T0 + timedelta(seconds=90)),
    ]


def test_a_new_alarm_beside_a_standing_one_raises_only_the_new_one() -> None:
    _, signals = run([fix(0, alarms=["power_cut"]), fix(30, alarms=["power_cut", "jamming"])])
    assert kinds(signals) == ["power_cut", "jamming"]
    assert signals[1].at == T0 + timedelta(seconds=30)


def test_an_alarm_on_a_coarse_fix_raises_and_counts_as_seen() -> None:
    state, signals = run([fix(0), fix(30, source="lbs", acc=1500.0, alarms=["tamper"])])
    assert kinds(signals) == ["tamper"]
    assert state.alarms == ("tamper",)
    _, again = observe(state, fix(60, alarms=["tamper"]), TH)
    assert again == []


def test_an_alarm_on_a_late_fix_raises_nothing() -> None:
    state, _ = run([fix(0), fix(60)])
    _, signals = observe(state, fix(45, alarms=["power_cut"]), TH)
    assert signals == []


# tow: speed > 20 km/h for >= 120 s with ignition off


def towing(seconds: Iterable[float], *, speed: float = 40.0, ignition: bool | None = False) -> list[Position]:
    return [fix(s, speed / 3.6 * s, speed=speed, ignition=ignition) for s in seconds]


def test_tow_is_raised_exactly_at_120_s_of_towing() -> None:
    _, signals = run(towing([0, 60, 120]))
    assert kinds(signals) == ["tow"]
    (tow,) = signals
    assert tow.at == T0 + timedelta(seconds=120)
    assert tow.subject == ""  # the car
    assert tow.evidence["since"] == T0.isoformat()
    assert (tow.evidence["min_speed_kmh"], tow.evidence["min_s"]) == (20.0, 120.0)
    assert tow.evidence["fix"]["ignition"] is False


def test_tow_is_not_raised_at_119_s() -> None:
    state, signals = run(towing([0, 60, 119]))
    assert signals == []
    assert state.tow_since == T0
    assert not state.tow_open


def test_tow_needs_speed_over_20_kmh_not_at_it() -> None:
    _, at_limit = run(towing([0, 60, 120, 180], speed=20.0))
    _, just_over = run(towing([0, 60, 120, 180], speed=20.1))
    assert at_limit == []
    assert kinds(just_over) == ["tow"]


@pytest.mark.parametrize("ignition", [True, None])
def test_no_tow_with_ignition_on_or_unknown(ignition: bool | None) -> None:
    _, signals = run(towing(range(0, 601, 60), ignition=ignition))
    assert signals == []


def test_tow_is_raised_once_per_tow_and_again_for_the_next_one() -> None:
    first = towing(range(0, 601, 60))
    standing = [fix(700, 40 / 3.6 * 600, speed=0.0, ignition=False)]
    second = [fix(800 + s, 40 / 3.6 * 600 + 40 / 3.6 * s, speed=40.0, ignition=False) for s in (0, 60, 120)]
    _, signals = run([*first, *standing, *second])
    assert [(s.kind, s.at) for s in signals] == [
        (AlertKind.TOW, T0 + timedelta(seconds=120)),
        (AlertKind.TOW, T0 + timedelta(seconds=920)),
    ]


def test_a_fix_with_ignition_on_restarts_the_tow_clock() -> None:
    fixes = [
        *towing([0, 60]),
        fix(90, 40 / 3.6 * 90, speed=40.0, ignition=True),  # the driver, not a tow truck
        *towing([120, 180]),
    ]
    state, signals = run(fixes)
    assert signals == []
    assert state.tow_since == T0 + timedelta(seconds=120)
    _, signals = observe(state, towing([240])[0], TH)
    assert kinds(signals) == ["tow"]


# reappeared_far: back after >= 6 h silent, > 50 km from the last fix


def test_reappeared_far_exactly_at_6_h_and_just_over_50_km() -> None:
    state, signals = run([fix(0), fix(6 * HOUR, 50_001.0)])
    assert kinds(signals) == ["reappeared_far"]
    (signal,) = signals
    assert signal.subject == DEV
    assert signal.evidence["silent_h"] == 6.0
    assert signal.evidence["distance_km"] == 50.0
    assert signal.evidence["last"] == {"ts": T0.isoformat(), "lat": LAT, "lon": LON}
    # the car is where it reappeared, in a new stay
    assert (state.lat, state.fix_ts, state.anchor_ts) == (north(50_001.0), signal.at, signal.at)


def test_no_reappearance_at_50_km() -> None:
    state, signals = run([fix(0), fix(6 * HOUR, 50_000.0)])  # within a micrometre of 50 km
    assert signals == []
    assert state.lat == north(50_000.0)  # an ordinary move at 8 km/h


def test_no_reappearance_at_exactly_the_configured_distance() -> None:
    # No float point lies exactly 50 km away; set the threshold to the distance itself instead.
    far = fix(6 * HOUR, 50_000.0)
    at_distance = Thresholds(reappear_m=haversine_m(LAT, LON, far.lat, far.lon))
    _, signals = run([fix(0), far], th=at_distance)
    assert signals == []
    _, signals = run([fix(0), fix(6 * HOUR, 50_000.001)], th=at_distance)
    assert kinds(signals) == ["reappeared_far"]


def test_no_reappearance_after_a_silence_just_under_6_h() -> None:
    state, signals = run([fix(0), fix(6 * HOUR - 1, 120_000.0)])
    assert signals == []  # 120 km in 6 h is 20 km/h: neither reappearance nor a jump
    assert state.lat == north(120_000.0)


def test_no_reappearance_just_under_50_km_after_a_long_silence() -> None:
    _, signals = run([fix(0), fix(30 * HOUR, 49_999.0)])
    assert signals == []


def test_reappearing_far_after_a_long_idle_clears_the_idle() -> None:
    state, signals = run(parked(72))
    assert kinds(signals) == ["long_idle"]
    state, signals = run([fix(79 * HOUR, 60_000.0)], state)
    assert kinds(signals) == ["reappeared_far", "long_idle clears"]
    assert isinstance(signals[1], Ended) and signals[1].reason == "vehicle moved"
    assert not state.idle_open


def test_an_impossible_fix_after_a_long_silence_is_an_outlier_not_a_reappearance() -> None:
    ts = T0 + timedelta(hours=6)
    urumqi = Position(DEV, ts, 43.8256, 87.6168, ts, accuracy_m=10.0)
    state, signals = run([fix(0), urumqi])
    assert kinds(signals) == ["gps_jump"]
    assert (state.lat, state.lon, state.fix_ts) == (LAT, LON, T0)


def test_a_plausible_reappearance_after_a_long_silence_is_no_jump() -> None:
    # Hangzhou, 165 km from People's Square, after 6 h: 27 km/h, a reappearance only.
    ts = T0 + timedelta(hours=6)
    state, signals = run([fix(0), Position(DEV, ts, 30.2741, 120.1551, ts, accuracy_m=10.0)])
    assert kinds(signals) == ["reappeared_far"]
    assert state.lat == 30.2741


# gps_jump: implied speed > 300 km/h, over more than 1 km net of accuracy


def jump_to(net_m: float, seconds: float) -> Position:
    """A fix `seconds` after T0 whose distance from People's Square, net of accuracy, is exactly net_m."""
    moved_m = net_m + 200.0
    lat = north(moved_m)
    moved = haversine_m(LAT, LON, lat, LON)
    acc = moved - net_m  # exact: moved and net_m are within a factor of two of each other
    assert moved - 0.0 - acc == net_m
    ts = T0 + timedelta(seconds=seconds)
    return Position(DEV, ts, lat, LON, ts, accuracy_m=acc)


def test_an_implied_speed_of_exactly_300_kmh_is_no_jump() -> None:
    assert 5000.0 / 60 * 3.6 == 300.0
    state, signals = run([fix(0, acc=0.0), jump_to(5000.0, 60)])
    assert signals == []
    assert state.fix_ts == T0 + timedelta(seconds=60)  # the car moved


def test_an_implied_speed_just_over_300_kmh_is_a_jump_and_the_car_stays() -> None:
    state, signals = run([fix(0, acc=0.0), jump_to(5001.0, 60)])
    assert kinds(signals) == ["gps_jump"]
    (jump,) = signals
    assert jump.subject == DEV
    assert (jump.evidence["implied_kmh"], jump.evidence["limit_kmh"]) == (300, 300.0)
    assert jump.evidence["from"] == {"ts": T0.isoformat(), "lat": LAT, "lon": LON}
    assert (state.lat, state.lon, state.fix_ts) == (LAT, LON, T0)
    assert state.last_ts == T0 + timedelta(seconds=60)  # it did report


def test_an_implied_speed_just_under_300_kmh_is_no_jump() -> None:
    _, signals = run([fix(0, acc=0.0), jump_to(4999.0, 60)])
    assert signals == []


def test_a_jump_needs_more_than_1_km_net_of_accuracy() -> None:
    # One second apart, so any of these is far above 300 km/h: only the 1 km minimum decides.
    _, at_1km = run([fix(0, acc=0.0), jump_to(1000.0, 1)])
    _, just_over = run([fix(0, acc=0.0), jump_to(1001.0, 1)])
    assert at_1km == []
    assert kinds(just_over) == ["gps_jump"]


def test_a_few_metres_between_fixes_a_second_apart_is_no_jump() -> None:
    _, signals = run([fix(0), fix(1, 150.0)])  # 540 km/h implied, but only 140 m net
    assert signals == []


def test_accuracy_of_both_fixes_is_netted_out_of_the_distance() -> None:
    # 1,390 m apart in 10 s: a jump for two 5 m fixes, not for two 200 m fixes (990 m net).
    _, sharp = run([fix(0, acc=5.0), fix(10, 1_390.0, acc=5.0)])
    _, blurred = run([fix(0, acc=200.0), fix(10, 1_390.0, acc=200.0)])
    assert kinds(sharp) == ["gps_jump"]
    assert blurred == []


def test_a_jump_outlier_keeps_the_car_in_place_and_a_confirming_fix_moves_it() -> None:
    state, signals = run([fix(0), fix(60, 100_000.0)])
    assert kinds(signals) == ["gps_jump"]
    assert (state.lat, state.fix_ts) == (LAT, T0)
    assert state.pending_lat == north(100_000.0)
    state, signals = run([fix(120, 100_300.0)], state)  # 300 m from the outlier: confirmed
    assert signals == []
    assert (state.lat, state.fix_ts) == (north(100_300.0), T0 + timedelta(seconds=120))
    assert state.pending_lat is None
    assert state.anchor_ts == T0 + timedelta(seconds=120)  # a new stay where it went


def test_a_fix_back_at_the_old_place_drops_the_outlier() -> None:
    state, signals = run([fix(0), fix(60, 100_000.0), fix(120, 30.0)])
    assert kinds(signals) == ["gps_jump"]
    assert (state.lat, state.fix_ts, state.pending_lat) == (north(30.0), T0 + timedelta(seconds=120), None)
    assert state.anchor_ts == T0  # still the same stay


def test_a_second_outlier_elsewhere_is_another_jump_not_a_confirmation() -> None:
    state, signals = run([fix(0), fix(60, 100_000.0), fix(120, 102_000.0)])
    assert kinds(signals) == ["gps_jump", "gps_jump"]
    assert (state.lat, state.fix_ts) == (LAT, T0)
    assert state.pending_lat == north(102_000.0)


def test_an_outlier_does_not_clear_a_long_idle() -> None:
    state, _ = run(parked(72))
    state, signals = run([fix(72 * HOUR + 60, 100_000.0)], state)
    assert kinds(signals) == ["gps_jump"]
    assert state.idle_open


# stops: all fixes of the last 180 s within 200 m


def test_a_stop_counts_from_180_s_not_179() -> None:
    state, _ = run([fix(0), fix(179, 50.0)])
    assert state.stopped_since(TH) is None
    state, _ = run([fix(180, 20.0)], state)
    assert state.stopped_since(TH) == T0


def test_a_fix_exactly_200_m_from_the_stay_keeps_the_stay() -> None:
    lat, lon = exactly(200.0)
    assert haversine_m(LAT, LON, lat, lon) == 200.0
    ts = T0 + timedelta(seconds=600)
    state, _ = run([fix(0), Position(DEV, ts, lat, lon, ts, accuracy_m=5.0)])
    assert state.anchor_ts == T0
    assert (state.anchor_lat, state.lat) == (LAT, lat)


def test_a_fix_just_over_200_m_from_the_stay_starts_a_new_one() -> None:
    state, _ = run([fix(0), fix(600, 200.5)])
    assert state.anchor_ts == T0 + timedelta(seconds=600)
    assert state.anchor_lat == north(200.5)


def test_the_stay_is_measured_from_where_it_began_not_from_the_last_fix() -> None:
    # Creeping 150 m at a time: each fix is near the previous one, the third is 300 m from the start.
    state, _ = run([fix(0), fix(600, 150.0), fix(1200, 300.0)])
    assert state.anchor_ts == T0 + timedelta(seconds=1200)


def test_a_configured_stop_radius_is_honoured() -> None:
    wide = Thresholds(stop_radius_m=500.0)
    state, _ = run([fix(0), fix(600, 300.0)], th=wide)
    assert state.anchor_ts == T0  # 300 m is within a 500 m stop radius


# long_idle: stopped >= 72 h


def test_long_idle_is_raised_at_exactly_72_h() -> None:
    state, signals = run(parked(72))
    assert kinds(signals) == ["long_idle"]
    (idle,) = signals
    assert idle.at == T0 + timedelta(hours=72)
    assert idle.subject == ""
    assert idle.evidence["since"] == T0.isoformat()
    assert (idle.evidence["lat"], idle.evidence["lon"]) == (LAT, LON)
    assert (idle.evidence["stopped_h"], idle.evidence["threshold_h"]) == (72.0, 72.0)
    assert state.idle_open


def test_no_long_idle_a_second_before_72_h() -> None:
    state, signals = run(parked(72 - 1 / 3600))
    assert signals == []
    assert not state.idle_open


def test_long_idle_is_raised_once_per_stop() -> None:
    _, signals = run([*parked(72), fix(73 * HOUR, 120.0), fix(96 * HOUR, 0.0)])
    assert kinds(signals) == ["long_idle"]


def test_long_idle_clears_with_its_reason_when_the_car_moves() -> None:
    state, _ = run(parked(72))
    state, signals = run([fix(72 * HOUR + 600, 1_000.0)], state)
    assert kinds(signals) == ["long_idle clears"]
    (cleared,) = signals
    assert isinstance(cleared, Ended)
    assert cleared.reason == "vehicle moved"
    assert cleared.subject == ""
    assert cleared.at == T0 + timedelta(hours=72, seconds=600)
    assert cleared.evidence["moved_to"]["lat"] == north(1_000.0)
    assert not state.idle_open
    assert state.anchor_ts == cleared.at


def test_drifting_within_200_m_does_not_clear_a_long_idle() -> None:
    state, _ = run(parked(72))
    state, signals = run([fix(72 * HOUR + 600, 180.0)], state)
    assert signals == []
    assert state.idle_open


def test_moving_away_without_an_open_idle_clears_nothing() -> None:
    _, signals = run([*parked(48), fix(48 * HOUR + 600, 2_000.0)])
    assert signals == []


def test_a_new_stop_after_moving_can_raise_long_idle_again() -> None:
    state, _ = run(parked(72))
    away = 5_000.0
    later = [fix(73 * HOUR + h * HOUR, away) for h in (0, 24, 48, 72)]
    _, signals = run(later, state)
    assert kinds(signals) == ["long_idle clears", "long_idle"]
    assert signals[1].at == T0 + timedelta(hours=145)


# coarse fixes: LBS / Wi-Fi, or accuracy > 500 m


@pytest.mark.parametrize(("source", "acc"), [("lbs", 30.0), ("wifi", 30.0), ("gps", 501.0)])
def test_a_coarse_fix_never_moves_the_car_but_refreshes_the_report_time(source: str, acc: float) -> None:
    state, _ = run([fix(0), fix(60)])
    after, signals = observe(state, fix(600, 5_000.0, source=source, acc=acc), TH)
    assert signals == []  # 5 km in 9 min would be 33 km/h: no jump either way; nothing moved
    assert (after.lat, after.fix_ts, after.anchor_ts) == (state.lat, state.fix_ts, state.anchor_ts)
    assert after.last_ts == T0 + timedelta(seconds=600)


def test_a_coarse_fix_far_away_is_no_jump() -> None:
    _, signals = run([fix(0), fix(60, 100_000.0, source="lbs", acc=2_000.0)])
    assert signals == []


def test_a_gps_fix_of_exactly_500_m_accuracy_is_trusted() -> None:
    state, _ = run([fix(0), fix(600, 5_000.0, acc=500.0)])
    assert (state.lat, state.fix_ts, state.accuracy_m) == (north(5_000.0), T0 + timedelta(seconds=600), 500.0)


def test_coarse_fixes_do_not_start_a_long_idle() -> None:
    coarse = [fix(h * HOUR, 0.0, source="lbs", acc=800.0) for h in (24, 48, 72, 96)]
    state, signals = run([fix(0), *coarse])
    assert signals == []
    assert not state.idle_open
    assert state.last_ts == T0 + timedelta(hours=96)


def test_a_coarse_fix_far_away_does_not_clear_a_long_idle() -> None:
    state, _ = run(parked(72))
    state, signals = run([fix(73 * HOUR, 5_000.0, source="lbs", acc=1_500.0)], state)
    assert signals == []
    assert state.idle_open
    assert state.anchor_ts == T0


def test_a_sparse_wireless_unit_never_judges_long_idle() -> None:
    # Fixes 6 h apart at one place do not prove the car stood still in between.
    state = DeviceState()
    signals: list[Signal | Ended] = []
    for p in parked(96):
        state, found = observe(state, p, TH, kind=DeviceKind.WIRELESS)
        signals += found
    assert signals == []
    assert not state.idle_open
    assert state.anchor_ts == T0  # the stay is still tracked, for the partner and the sweeps


def test_observe_never_changes_the_state_it_is_given() -> None:
    """A batch retried after a database failure is judged again from the states it started with:
    observe builds new ones (DeviceState is not frozen, for speed, so this is the guard)."""
    fixes = [
        fix(0),
        fix(60, 10, speed=30, ignition=False),
        fix(240, 900, speed=40, ignition=False),  # towing past the time limit
        fix(13 * HOUR, 900),  # idle long enough
        fix(13 * HOUR + 60, 400_000),  # an impossible jump
        fix(14 * HOUR, 0, alarms=["power_cut"], source="lbs"),
        fix(15 * HOUR, 0),
    ]
    state = DeviceState()
    for p in fixes:
        snapshot = dataclasses.replace(state)
        after, _ = observe(state, p, TH)
        assert state == snapshot
        assert after != state
        state = after
