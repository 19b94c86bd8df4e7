"""Ending a visit: a car parked just beyond a fence leaves it (and never dwells there), a trip
weaving along a region's border leaves once, and a device that falls silent outside still leaves."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
from shapely.geometry import Point

from domain.ids import DeviceId, FenceId
from domain.position import Position
from domain.vocabulary import FenceKind, RiskZoneType
from geofence.fence import Fence
from geofence.index import FenceIndex
from geofence.membership import Phase
from geofence.projection import metres_per_degree
from geofence.signals import REGION_EXIT_AFTER_S, Entered, Exited, ExitReason, FenceSignal
from geofence.tracker import DeviceFences, evaluate_batch, expire_silent

LAT, LON = 31.2235, 121.4160  # pawn shop near Zhongshan Park, Shanghai
CAR = DeviceId("car-9")
T0 = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)
KY = float(metres_per_degree(LAT)[1])
MIN = 60


def pawn_shop() -> Fence:
    return Fence(
        FenceId(1), "Pawn shop", FenceKind.RISK_ZONE, Point(LON, LAT), radius_m=120.0, subtype=RiskZoneType.PAWN_SHOP
    )


def region(radius_m: float = 5_000.0) -> Fence:
    return Fence(FenceId(2), "Bound region", FenceKind.ALLOWED_REGION, Point(LON, LAT), radius_m=radius_m)


def fix(seconds: float, north_m: float, *, acc: float = 8.0, speed: float = 0.0) -> Position:
    ts = T0 + timedelta(seconds=seconds)
    return Position(CAR, ts, LAT + north_m / KY, LON, ts, accuracy_m=acc, speed_kmh=speed, ignition=speed > 0)


def run(
    positions: Sequence[Position], fences: Sequence[Fence], state: DeviceFences | None = None
) -> tuple[DeviceFences, list[FenceSignal]]:
    result = evaluate_batch(FenceIndex.build(fences), positions, {CAR: state} if state else {}, {})
    return result.states.get(CAR, state or DeviceFences()), result.signals


def kinds(signals: Sequence[FenceSignal]) -> list[str]:
    return [type(s).__name__ for s in signals]


def test_a_band_fix_does_not_cancel_a_pending_exit_however_old() -> None:
    # Stopped inside, one fix clearly out (300 m), then 20 min of fixes at 165 m: beyond the fence
    # net of accuracy, short of the margin. The car is not inside: the visit ends 5 min on.
    positions = [fix(0, 0.0), fix(MIN, 300.0), *(fix(MIN + 60 * i, 165.0) for i in range(1, 21))]
    state, signals = run(positions, [pawn_shop()])
    assert kinds(signals) == ["Entered", "Exited"]
    exited = signals[1]
    assert isinstance(exited, Exited) and exited.reason is ExitReason.TIME
    assert exited.at == T0 + timedelta(seconds=MIN)
    assert state.inside == ()


def test_an_exit_through_the_band_is_dated_by_its_first_clear_fix() -> None:
    # 150 m (band), then 300 m twice: the car was surely out from the first 300 m fix on.
    _, signals = run(
        [fix(0, 0.0), fix(MIN, 150.0, speed=30.0), fix(2 * MIN, 300.0), fix(3 * MIN, 300.0)], [pawn_shop()]
    )
    assert kinds(signals) == ["Entered", "Exited"]
    assert signals[1].at == T0 + timedelta(seconds=2 * MIN)
    assert [f.ts for f in signals[1].evidence] == [T0 + timedelta(seconds=2 * MIN), T0 + timedelta(seconds=3 * MIN)]


def test_a_car_parked_180_to_190_m_from_a_120_m_fence_does_not_dwell() -> None:
    # It stops in the lot for two minutes, then parks just beyond the fence for three hours. Its
    # fixes (every 10 min) drift between the band (180 m, accuracy 20 m: 40 m beyond the fence net
    # of accuracy) and clearly outside (190 m, accuracy 8 m: 62 m beyond).
    visit = [fix(0, 30.0), fix(2 * MIN, 30.0, speed=12.0)]
    parked = [fix(2 * MIN + 600 * i, 190.0 if i % 2 else 180.0, acc=8.0 if i % 2 else 20.0) for i in range(1, 19)]
    state, signals = run([*visit, *parked], [pawn_shop()])
    assert kinds(signals) == ["Entered", "Exited"]
    assert signals[1].at == T0 + timedelta(seconds=12 * MIN)  # the first fix that saw it out
    assert state.inside == ()
    # Random drift of the same spot (accuracy 5-25 m, noise within it), fixes every minute.
    rng = np.random.default_rng(21)
    drift = []
    for i in range(1, 181):
        acc = float(rng.uniform(5.0, 25.0))
        drift.append(fix(2 * MIN + 60 * i, float(rng.uniform(180.0, 190.0) + rng.uniform(-1.0, 1.0) * acc), acc=acc))
    _, signals = run([*visit, *drift], [pawn_shop()])
    assert kinds(signals) == ["Entered", "Exited"]


def test_parked_in_the_band_only_still_ends_the_visit_and_never_dwells() -> None:
    # 165 m with 10 m accuracy: 35 m beyond the fence net of accuracy on every fix, never clearly out.
    _, signals = run([fix(0, 0.0), *(fix(60 * i, 165.0, acc=10.0) for i in range(1, 181))], [pawn_shop()])
    assert kinds(signals) == ["Entered", "Exited"]
    assert signals[1].at == T0 + timedelta(seconds=60)


def deep_inside(t0: float, until: float, north_m: float = 0.0) -> list[Position]:
    return [fix(s, north_m, speed=50.0) for s in np.arange(t0, until, 20.0)]


def test_a_trip_weaving_along_the_region_border_leaves_once() -> None:
    r = 5_000.0
    positions = deep_inside(0, 15 * MIN, r - 2_000.0)  # in the region, entered after 10 min
    t = 15 * MIN
    for excursion_s in (2 * MIN, 3 * MIN, 4 * MIN, 3 * MIN):
        positions += [fix(t + s, r + 300.0, speed=50.0) for s in np.arange(0, excursion_s, 20.0)]
        t += excursion_s
        positions += [fix(t + s, r - 200.0, speed=50.0) for s in np.arange(0, 4 * MIN, 20.0)]
        t += 4 * MIN
    t_leave = t
    positions += [fix(t + s, r + 2_000.0 + s * 10, speed=50.0) for s in np.arange(0, 40 * MIN, 20.0)]
    state, signals = run(positions, [region(r)])
    assert kinds(signals) == ["Entered", "Exited"]
    exited = signals[1]
    assert isinstance(exited, Exited) and exited.at == T0 + timedelta(seconds=t_leave)
    assert exited.thresholds.exit_after_s == REGION_EXIT_AFTER_S and exited.thresholds.exit_fixes is None
    assert state.inside == ()


def test_back_in_the_region_only_once_clearly_inside_for_ten_minutes() -> None:
    r = 5_000.0
    state, signals = run(
        [*deep_inside(0, 11 * MIN), *(fix(11 * MIN + s, r + 500.0) for s in range(0, 900, 60))], [region(r)]
    )
    assert kinds(signals) == ["Entered", "Exited"]
    t = 26 * MIN
    # 5 min back 100 m inside, out again for 20 min: the same trip, no re-entry, no second exit.
    dip = [fix(t + s, r - 100.0, speed=40.0) for s in range(0, 5 * MIN, 20)]
    out = [fix(t + 5 * MIN + s, r + 800.0, speed=40.0) for s in range(0, 20 * MIN, 20)]
    state, signals = run([*dip, *out], [region(r)], state)
    assert signals == []
    # Back 30 m inside (within the 50 m depth) for 15 min: still not back.
    t += 25 * MIN
    state, signals = run([fix(t + s, r - 30.0, acc=5.0) for s in range(0, 15 * MIN, 60)], [region(r)], state)
    assert signals == []
    # 1 km inside for 10 min: back.
    t += 15 * MIN
    state, signals = run([fix(t + s, r - 1_000.0, speed=30.0) for s in range(0, 11 * MIN, 60)], [region(r)], state)
    assert kinds(signals) == ["Entered"]
    assert isinstance(signals[0], Entered) and signals[0].at == T0 + timedelta(seconds=t + 10 * MIN)


def test_a_region_exit_then_silence_is_completed_by_the_sweep() -> None:
    r = 5_000.0
    index = FenceIndex.build([region(r)])
    positions = [*deep_inside(0, 11 * MIN), fix(11 * MIN, r + 400.0, speed=60.0), fix(11 * MIN + 20, r + 700.0)]
    result = evaluate_batch(index, positions, {}, {})
    assert kinds(result.signals) == ["Entered"]
    assert result.states[CAR].inside[0][1].phase is Phase.LEAVING
    first_out = T0 + timedelta(seconds=11 * MIN)
    quiet = expire_silent(index, result.states, first_out + timedelta(seconds=REGION_EXIT_AFTER_S - 1))
    assert quiet.signals == [] and quiet.states == {}
    swept = expire_silent(index, result.states, first_out + timedelta(seconds=REGION_EXIT_AFTER_S))
    (exited,) = swept.signals
    assert isinstance(exited, Exited) and exited.at == first_out and exited.reason is ExitReason.TIME
    assert swept.states[CAR].inside == () and swept.states[CAR].last_ts == result.states[CAR].last_ts


def test_the_sweep_leaves_devices_inside_or_entering_alone() -> None:
    index = FenceIndex.build([pawn_shop()])
    inside = evaluate_batch(index, [fix(0, 0.0)], {}, {}).states
    entering = evaluate_batch(index, [fix(0, 0.0, speed=40.0)], {}, {}).states
    assert entering[CAR].inside[0][1].phase is Phase.ENTERING
    for states in (inside, entering):
        swept = expire_silent(index, states, T0 + timedelta(days=3))
        assert swept.signals == [] and swept.states == {}


def test_back_inside_after_the_exit_time_is_the_same_exit_with_or_without_a_sweep_between() -> None:
    # Out of the region, silent for 15 min (past the 10 min exit time), then a fix deep inside.
    r = 5_000.0
    index = FenceIndex.build([region(r)])
    before = [*deep_inside(0, 11 * MIN), fix(11 * MIN, r + 400.0, speed=60.0)]
    back = [fix(26 * MIN, 0.0, speed=30.0)]
    one_batch = evaluate_batch(index, [*before, *back], {}, {})
    first = evaluate_batch(index, before, {}, {})
    swept = expire_silent(index, first.states, T0 + timedelta(seconds=21 * MIN))
    after = evaluate_batch(index, back, {**first.states, **swept.states}, {})
    split = [*first.signals, *swept.signals, *after.signals]
    assert kinds(one_batch.signals) == kinds(split) == ["Entered", "Exited"]
    assert [(s.at, s.evidence) for s in one_batch.signals] == [(s.at, s.evidence) for s in split]
    assert one_batch.states[CAR].inside == after.states[CAR].inside
