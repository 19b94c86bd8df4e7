"""Edge-triggered fence membership: no flapping, exits after 2 clear fixes or 5 minutes, coarse fixes
never cross, dwell at exactly the threshold, active hours (overnight too), small rebuildable state.

Fixes are of a parked car (speed 0) unless a test says otherwise: entering rules are in
test_geofence_entry.py, the border and silence rules in test_geofence_leaving.py."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from shapely.geometry import Point

from benchmarks.geofence import deep_size
from domain.ids import DeviceId, FenceId, LoanId
from domain.position import Position
from domain.vocabulary import FenceKind, RiskZoneType
from geofence.errors import IllegalTransition
from geofence.fence import Fence
from geofence.hours import ActiveHours
from geofence.index import FenceIndex
from geofence.membership import TRANSITIONS, Event, Phase, action_for
from geofence.projection import metres_per_degree
from geofence.signals import Dwelled, Entered, Exited, ExitReason, FenceSignal
from geofence.tracker import DeviceFences, evaluate_batch, expire_silent

PAWN_LAT, PAWN_LON = 31.2304, 121.4737  # pawn shop near People's Square, Shanghai
CAR = DeviceId("car-1")
T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
KY = float(metres_per_degree(PAWN_LAT)[1])


def pawn_shop(**kw: object) -> Fence:
    args: dict[str, object] = {"radius_m": 100.0, "subtype": RiskZoneType.PAWN_SHOP}
    args.update(kw)
    return Fence(FenceId(1), "Pawn shop", FenceKind.RISK_ZONE, Point(PAWN_LON, PAWN_LAT), **args)  # type: ignore[arg-type]


def fix(
    seconds: float,
    north_m: float,
    *,
    acc: float = 10.0,
    source: str = "gps",
    device: str = CAR,
    speed: float | None = 0.0,
    ignition: bool | None = None,
) -> Position:
    ts = T0 + timedelta(seconds=seconds)
    lat = PAWN_LAT + north_m / KY
    return Position(
        DeviceId(device), ts, lat, PAWN_LON, ts, accuracy_m=acc, speed_kmh=speed, ignition=ignition, source=source
    )


def run(
    positions: Sequence[Position],
    fences: Sequence[Fence] | None = None,
    state: DeviceFences | None = None,
    loans: frozenset[LoanId] = frozenset(),
) -> tuple[DeviceFences, list[FenceSignal]]:
    index = FenceIndex.build(fences or [pawn_shop()])
    states = {CAR: state} if state else {}
    result = evaluate_batch(index, positions, states, {CAR: loans})
    return result.states.get(CAR, state or DeviceFences()), result.signals


def kinds(signals: Sequence[FenceSignal]) -> list[str]:
    return [type(s).__name__ for s in signals]


def test_one_fix_at_rest_inside_enters_with_the_fix_as_evidence() -> None:
    _, signals = run([fix(0, 500), fix(30, 20)])
    assert kinds(signals) == ["Entered"]
    (entered,) = signals
    assert isinstance(entered, Entered) and entered.fence_id == 1
    assert entered.evidence[0].ts == T0 + timedelta(seconds=30)
    assert entered.thresholds.radius_m == 100.0 and entered.thresholds.margin_m == 50.0


def test_drifting_parked_car_at_the_edge_does_not_flap() -> None:
    rng = np.random.default_rng(7)
    # Two hours parked at the fence's edge, a fix every 30 s, drifting 60–150 m from the centre
    # with 10–30 m accuracy: never clearly outside (150 − 100 − 10 = 40 < 50 m margin).
    distances = rng.uniform(60, 150, 240)
    accuracies = rng.uniform(10, 30, 240)
    positions = [
        fix(30 * i, float(d), acc=float(a)) for i, (d, a) in enumerate(zip(distances, accuracies, strict=True))
    ]
    _, signals = run(positions)
    assert kinds(signals) == ["Entered", "Dwelled"]
    # The naive rule (inside iff distance < radius, as Traccar does) would have flapped:
    naive_crossings = int(np.count_nonzero(np.diff(distances < 100.0)))
    assert naive_crossings > 20


def test_exit_needs_two_consecutive_clear_fixes() -> None:
    state, signals = run([fix(0, 0), fix(30, 400)])
    assert kinds(signals) == ["Entered"]  # one clearly-outside fix is not an exit
    state, signals = run([fix(60, 400)], state=state)
    assert kinds(signals) == ["Exited"]
    (exited,) = signals
    assert isinstance(exited, Exited) and exited.reason is ExitReason.FIXES
    assert [e.ts for e in exited.evidence] == [T0 + timedelta(seconds=30), T0 + timedelta(seconds=60)]
    assert state.inside == ()


def test_an_exit_is_dated_by_the_first_clear_fix_not_by_the_confirmation() -> None:
    # A car seen outside, then silent for 52 minutes: it left when it was first seen out.
    _, signals = run([fix(0, 0), fix(30, 400), fix(30 + 52 * 60, 420)])
    exited = signals[-1]
    assert isinstance(exited, Exited) and exited.at == T0 + timedelta(seconds=30)


def test_a_fix_back_inside_cancels_a_pending_exit_a_band_fix_does_not() -> None:
    # 95 m, accuracy 10 m: the accuracy circle overlaps the 100 m fence: back inside.
    _, signals = run([fix(0, 0), fix(30, 400), fix(60, 95), fix(90, 400)])
    assert kinds(signals) == ["Entered"]
    # 130 m: 20 m beyond the fence net of accuracy, short of the 50 m margin: proves nothing either way.
    _, signals = run([fix(0, 0), fix(30, 400), fix(60, 130), fix(90, 400)])
    assert kinds(signals) == ["Entered", "Exited"]
    assert signals[1].at == T0 + timedelta(seconds=30)


def test_exit_after_five_minutes_with_only_coarse_fixes_after_the_clear_one() -> None:
    base = [fix(0, 0), fix(60, 400)]
    _, signals = run([*base, fix(60 + 299, 0, source="lbs", acc=1500)])
    assert kinds(signals) == ["Entered"]  # 4 min 59 s: not yet
    _, signals = run([*base, fix(60 + 300, 0, source="lbs", acc=1500)])
    assert kinds(signals) == ["Entered", "Exited"]
    assert isinstance(signals[1], Exited) and signals[1].reason is ExitReason.TIME
    assert len(signals[1].evidence) == 1  # the coarse fix proves nothing; the clear one and time do


def test_exit_sweep_after_five_minutes_of_silence() -> None:
    index = FenceIndex.build([pawn_shop()])
    state, _ = run([fix(0, 0), fix(60, 400)])
    first_out = T0 + timedelta(seconds=60)
    swept = expire_silent(index, {CAR: state}, first_out + timedelta(seconds=299))
    assert swept.signals == [] and swept.states == {}  # nothing changed: nothing to save
    swept = expire_silent(index, {CAR: state}, first_out + timedelta(seconds=300))
    assert kinds(swept.signals) == ["Exited"] and swept.states[CAR].inside == ()
    (exited,) = swept.signals
    assert isinstance(exited, Exited) and exited.reason is ExitReason.TIME and exited.at == first_out


def test_coarse_fixes_never_cross() -> None:
    # LBS at the very centre, and a GPS fix coarser than 500 m: no enter.
    _, signals = run([fix(0, 0, source="lbs", acc=50), fix(30, 0, acc=600), fix(60, 0, source="wifi", acc=30)])
    assert signals == []
    # Inside, then cell fixes 5 km away: no exit.
    state, signals = run([fix(0, 0), *(fix(30 * i, 5000, source="lbs", acc=2000) for i in range(1, 20))][:8])
    assert kinds(signals) == ["Entered"]
    assert state.inside and state.inside[0][1].phase is Phase.INSIDE


def test_dwell_fires_once_at_exactly_the_threshold() -> None:
    fence = pawn_shop(dwell_s=1800)
    _, signals = run([fix(0, 0), fix(1799, 10)], [fence])
    assert kinds(signals) == ["Entered"]
    _, signals = run([fix(0, 0), fix(1799, 10), fix(1800, 10), fix(3600, 10)], [fence])
    assert kinds(signals) == ["Entered", "Dwelled"]
    dwell = signals[1]
    assert isinstance(dwell, Dwelled) and dwell.inside_s == 1800.0 and dwell.thresholds.dwell_s == 1800
    assert [e.ts for e in dwell.evidence] == [T0, T0 + timedelta(seconds=1800)]


def test_allowed_region_has_no_dwell() -> None:
    region = Fence(FenceId(5), "Region", FenceKind.ALLOWED_REGION, Point(PAWN_LON, PAWN_LAT), radius_m=5000)
    _, signals = run([fix(0, 0), fix(7200, 10)], [region])
    assert kinds(signals) == ["Entered"]


def shanghai(hour: int, minute: int = 0, day: int = 2) -> float:
    """Seconds after T0 of a local Shanghai time on 2 or 3 November 2026."""
    local = datetime(2026, 11, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)
    return (local - T0).total_seconds()


def test_overnight_active_hours() -> None:
    fence = pawn_shop(active_hours=ActiveHours.parse("22:00-06:00"))
    positions = [
        fix(shanghai(21, 50), 0),  # inside, but the fence is not in force yet
        fix(shanghai(22, 0), 0),  # 22:00: in force: enter
        fix(shanghai(23, 0), 0),  # dwell (30 min default)
        fix(shanghai(5, 59, day=3), 0),
        fix(shanghai(6, 0, day=3), 0),  # 06:00: out of force: silently forgotten, no exit
        fix(shanghai(6, 30, day=3), 900),
        fix(shanghai(22, 0, day=3), 0),  # the next night: a fresh enter
    ]
    _, signals = run(positions, [fence])
    assert kinds(signals) == ["Entered", "Dwelled", "Entered"]
    assert signals[0].at == T0 + timedelta(seconds=shanghai(22, 0))
    assert signals[2].at == T0 + timedelta(seconds=shanghai(22, 0, day=3))


def test_daytime_active_hours_do_not_count_dwell_across_the_night() -> None:
    fence = pawn_shop(active_hours=ActiveHours.parse("08:00-20:00"))
    positions = [fix(shanghai(19, 50), 0), fix(shanghai(20, 30), 0), fix(shanghai(8, 0, day=3), 0)]
    _, signals = run(positions, [fence])
    assert kinds(signals) == ["Entered", "Entered"]  # no dwell from 19:50 to 08:00


def test_loan_bound_fence_watches_only_its_loans() -> None:
    home = Fence(
        FenceId(9),
        "Home",
        FenceKind.HOME,
        Point(PAWN_LON, PAWN_LAT),
        radius_m=150,
        is_global=False,
        loan_ids=frozenset({LoanId("L1")}),
    )
    _, signals = run([fix(0, 0)], [home], loans=frozenset({LoanId("L2")}))
    assert signals == []
    _, signals = run([fix(0, 0)], [home], loans=frozenset({LoanId("L1")}))
    assert kinds(signals) == ["Entered"]


def test_state_of_an_unbound_fence_is_dropped_silently() -> None:
    home = Fence(
        FenceId(9),
        "Home",
        FenceKind.HOME,
        Point(PAWN_LON, PAWN_LAT),
        radius_m=150,
        is_global=False,
        loan_ids=frozenset({LoanId("L1")}),
    )
    state, _ = run([fix(0, 0)], [home], loans=frozenset({LoanId("L1")}))
    assert len(state.inside) == 1
    state, signals = run([fix(60, 0)], [home], state=state, loans=frozenset())
    assert signals == [] and state.inside == ()


def test_stale_fixes_are_skipped() -> None:
    state, _ = run([fix(0, 0), fix(600, 10)])
    index = FenceIndex.build([pawn_shop()])
    result = evaluate_batch(index, [fix(300, 400), fix(330, 400)], {CAR: state}, {})
    assert result.stale == 2 and result.signals == [] and result.states[CAR] == state


def test_state_from_one_batch_equals_state_from_several() -> None:
    fences = [
        pawn_shop(),
        Fence(FenceId(2), "Lot", FenceKind.RISK_ZONE, Point(PAWN_LON, PAWN_LAT + 0.001), radius_m=300),
    ]
    positions = [fix(60 * i, float(d)) for i, d in enumerate([900, 50, 60, 70, 400, 80, 90, 95])]
    state: DeviceFences | None = None
    for chunk in (positions[:3], positions[3:5], positions[5:]):
        state, _ = run(chunk, fences, state)
    whole = evaluate_batch(FenceIndex.build(fences), positions, {}, {CAR: frozenset()}).states
    assert whole[CAR] == state
    assert len(state.inside) == 2  # in both


def test_device_state_inside_two_fences_is_under_one_kilobyte() -> None:
    fences = [pawn_shop(), Fence(FenceId(2), "Lot", FenceKind.RISK_ZONE, Point(PAWN_LON, PAWN_LAT), radius_m=400)]
    state, _ = run([fix(0, 0), fix(30, 10), fix(60, 300)], fences)  # in the lot, leaving the shop
    assert [s.phase for _, s in state.inside] == [Phase.LEAVING, Phase.INSIDE]
    assert deep_size(state) < 1024


def test_transition_table_is_complete_and_unknown_pairs_raise() -> None:
    assert {(p, e) for p in Phase for e in Event} == set(TRANSITIONS)
    with pytest.raises(IllegalTransition, match="'nowhere'"):
        action_for(None, "nowhere")  # type: ignore[arg-type]


def test_interleaved_devices_in_one_batch_keep_their_own_state() -> None:
    index = FenceIndex.build([pawn_shop()])
    batch = [
        fix(60, 400, device="car-b"),
        fix(0, 0, device="car-a"),
        fix(30, 400, device="car-a"),
        fix(0, 0, device="car-b"),  # car-b's fixes arrive out of order within the batch
        fix(60, 400, device="car-a"),
    ]
    result = evaluate_batch(index, batch, {}, {})
    by_device = {(s.device_id, type(s).__name__) for s in result.signals}
    assert by_device == {("car-a", "Entered"), ("car-a", "Exited"), ("car-b", "Entered")}
    assert result.states[DeviceId("car-b")].inside[0][1].phase is Phase.LEAVING
