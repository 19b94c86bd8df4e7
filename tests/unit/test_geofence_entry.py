"""Entering a fence needs evidence the car is there: a fix at rest inside, or fixes inside for
3 minutes; and the accuracy circle must lie inside (accuracy shrinks a fence for entering)."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from shapely.geometry import Point

from domain.ids import DeviceId, FenceId
from domain.position import Position
from domain.vocabulary import FenceKind, RiskZoneType
from geofence.fence import Fence
from geofence.index import FenceIndex
from geofence.projection import metres_per_degree
from geofence.signals import ENTER_AFTER_S, Dwelled, Entered, FenceSignal
from geofence.tracker import evaluate_batch

PAWN_LAT, PAWN_LON = 31.1945, 121.4365  # pawn shop near Xujiahui, Shanghai
CAR = DeviceId("car-7")
T0 = datetime(2026, 11, 4, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai
KY = float(metres_per_degree(PAWN_LAT)[1])


def zone(radius_m: float = 120.0) -> Fence:
    return Fence(
        FenceId(3), "Pawn shop", FenceKind.RISK_ZONE, Point(PAWN_LON, PAWN_LAT), radius_m=radius_m,
        subtype=RiskZoneType.PAWN_SHOP,
    )  # fmt: skip


def fix(
    seconds: float, north_m: float, *, acc: float = 8.0, speed: float | None = 0.0, ignition: bool | None = None
) -> Position:
    ts = T0 + timedelta(seconds=seconds)
    return Position(CAR, ts, PAWN_LAT + north_m / KY, PAWN_LON, ts, accuracy_m=acc, speed_kmh=speed, ignition=ignition)


def run(positions: Sequence[Position], fence: Fence | None = None) -> list[FenceSignal]:
    return evaluate_batch(FenceIndex.build([fence or zone()]), positions, {}, {}).signals


def drive_past(speed_kmh: float, radius_m: float, interval_s: float) -> list[Position]:
    """A straight drive south to north over the fence's centre, a fix every interval_s."""
    mps = speed_kmh / 3.6
    start = -(radius_m + 600.0)
    n = int(2 * (radius_m + 600.0) / (mps * interval_s)) + 1
    return [fix(i * interval_s, start + i * interval_s * mps, speed=speed_kmh, ignition=True) for i in range(n)]


def test_driving_past_at_33_to_52_kmh_with_the_ignition_on_does_not_enter() -> None:
    for speed in (33.0, 40.0, 52.0):
        positions = drive_past(speed, 120.0, 10.0)
        assert any(abs((p.lat - PAWN_LAT) * KY) < 100 for p in positions)  # a fix well inside
        assert run(positions) == [], speed


def test_driving_through_a_350_m_market_fence_at_25_kmh_does_not_enter() -> None:
    market = Fence(FenceId(4), "Used-car market", FenceKind.RISK_ZONE, Point(PAWN_LON, PAWN_LAT), radius_m=350.0)
    positions = drive_past(25.0, 350.0, 10.0)
    assert run(positions, market) == []


def test_a_fix_126_m_from_a_120_m_fence_is_not_inside_for_entering() -> None:
    # Home Assistant's overlap rule (126 − 10 < 120) would call it inside; its accuracy circle is not.
    assert run([fix(0, 126.0, acc=10.0), fix(600, 126.0, acc=10.0)]) == []
    # A larger accuracy makes it less sure, not more.
    assert run([fix(0, 100.0, acc=60.0), fix(600, 100.0, acc=60.0)]) == []


def test_the_accuracy_circle_exactly_on_the_edge_enters() -> None:
    assert run([fix(0, 100.0, acc=20.5)]) == []  # 120.5 m > 120 m
    (entered,) = run([fix(0, 100.0, acc=19.5)])  # 119.5 m
    assert isinstance(entered, Entered) and entered.at == T0


def test_stopped_or_ignition_off_inside_enters_at_once() -> None:
    (entered,) = run([fix(0, 40.0, speed=0.0, ignition=True)])
    assert entered.at == T0
    (entered,) = run([fix(0, 40.0, speed=None, ignition=False)])
    assert entered.at == T0
    (entered,) = run([fix(0, 40.0, speed=9.0, ignition=True)])  # creeping across the lot
    assert entered.at == T0


def test_fixes_on_the_move_inside_enter_once_they_span_three_minutes() -> None:
    moving = [fix(20 * i, 0.0, speed=None) for i in range(10)]  # unknown speed: no at-rest evidence
    assert ENTER_AFTER_S == 180
    assert run(moving[:9]) == []  # 160 s
    (entered,) = run(moving)  # 180 s
    assert isinstance(entered, Entered)
    assert entered.at == T0 + timedelta(seconds=180)
    assert [f.ts for f in entered.evidence] == [T0, T0 + timedelta(seconds=180)]


def test_a_fix_outside_between_them_restarts_the_count() -> None:
    positions = [fix(0, 0.0, speed=30.0), fix(100, 200.0, speed=30.0), fix(200, 0.0, speed=30.0)]
    assert run(positions) == []
    (entered,) = run([*positions, fix(380, 0.0, speed=30.0)])
    assert entered.at == T0 + timedelta(seconds=380) and entered.evidence[0].ts == T0 + timedelta(seconds=200)


def test_the_entry_is_dated_by_the_fix_that_proved_it_and_the_dwell_counts_from_the_first() -> None:
    # Rolls in at 15 km/h (seen inside at 10:00:30), stops at 10:01:00, stays.
    positions = [
        fix(0, -300.0, speed=15.0, ignition=True),
        fix(30, -60.0, speed=15.0, ignition=True),
        fix(60, 0.0, speed=0.0, ignition=False),
        fix(30 + 1800, 5.0, speed=0.0, ignition=False),
    ]
    entered, dwelled = run(positions)
    assert isinstance(entered, Entered) and entered.at == T0 + timedelta(seconds=60)
    assert [f.ts for f in entered.evidence] == [T0 + timedelta(seconds=30), T0 + timedelta(seconds=60)]
    assert isinstance(dwelled, Dwelled) and dwelled.inside_s == 1800.0
    assert entered.thresholds.enter_after_s == 180 and entered.thresholds.enter_depth_m == 0.0


def test_a_fence_smaller_than_the_accuracy_is_never_entered() -> None:
    tiny = zone(radius_m=15.0)
    assert run([fix(0, 0.0, acc=20.0), fix(600, 0.0, acc=20.0)], tiny) == []
