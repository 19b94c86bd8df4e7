"""Region exit and relocation judged on the real outline of the province or city a loan names."""

from datetime import UTC, datetime, timedelta

import numpy as np

from alerts.actions import AlertDraft, Clear
from alerts.judge import REGION_FENCE_BASE, Memory, World, judge, relocate
from alerts.relocation import Track
from alerts.thresholds import Policy
from domain.assets import Device, Loan
from domain.ids import DeviceId, FenceId, LoanId, Vin
from domain.position import Position
from domain.vocabulary import AlertKind, DeviceKind, FenceKind, LoanStatus
from geofence.fence import Fence
from geofence.geojson import parse_geometry

VIN = Vin("LSVHUNAN000000001")
DEVICE = DeviceId("hn-w")
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 09:00 in Changsha
CHANGSHA = (28.1960, 112.9770)  # Wuyi Square
ZHUZHOU = (27.8274, 113.1340)
PEOPLES_SQUARE = (31.2304, 121.4737)  # Shanghai
KUNSHAN = (31.3846, 120.9807)  # Kunshan, Jiangsu: 50 km from People's Square, inside the old Shanghai box
JIADING = (31.3750, 121.2650)  # Jiading, Shanghai: as far out, on this side of the line
# Either side of the Shanghai / Kunshan line on 31.33° N (121.128° E in WGS-84), 280 m from it.
ANTING_SIDE, HUAQIAO_SIDE = (31.33, 121.131), (31.33, 121.125)
# The approximate box "CN-SH" stood for until real outlines: 30°40′–31°53′ N, 120°52′–122°12′ E.
OLD_SHANGHAI_BOX = (30 + 40 / 60, 120 + 52 / 60, 31 + 53 / 60, 122 + 12 / 60)


def loan(
    bound_region: str | None,
    *,
    status: LoanStatus = LoanStatus.ACTIVE,
    home: tuple[float, float] | None = None,
) -> Loan:
    lat, lon = home or (None, None)
    return Loan(LoanId("LN-1"), VIN, status, 40, bound_region=bound_region, home_lat=lat, home_lon=lon)


def world(the_loan: Loan, fences: list[Fence] | None = None) -> World:
    devices = {DEVICE: Device(DEVICE, DeviceKind.WIRED, VIN)}
    return World.build(devices, fences or [], {VIN: the_loan}, Policy())


def drive(start: tuple[float, float], end: tuple[float, float], minutes: int) -> list[Position]:
    out = []
    for k in range(minutes + 1):
        f = k / minutes
        t = T0 + timedelta(minutes=k)
        lat, lon = start[0] + (end[0] - start[0]) * f, start[1] + (end[1] - start[1]) * f
        out.append(Position(DEVICE, t, lat, lon, t, accuracy_m=10.0, speed_kmh=60.0, ignition=True))
    return out


def region_exits(the_world: World, the_loan: Loan, fixes: list[Position]) -> list[AlertDraft]:
    """The region_exit alerts raised (entering the region only clears: nothing to raise)."""
    verdict = judge(Memory(), fixes, the_world, lambda vins: {VIN: the_loan})
    return [a for a in verdict.actions if isinstance(a, AlertDraft) and a.kind == AlertKind.REGION_EXIT.value]


def test_a_loan_bound_to_changsha_gets_the_city_outline_as_its_fence() -> None:
    by_name, by_code = world(loan("长沙市")), world(loan("430100"))
    [fence] = by_name.index.fences
    assert fence.kind is FenceKind.ALLOWED_REGION and fence.loan_ids == {LoanId("LN-1")}
    assert fence.fence_id == REGION_FENCE_BASE + 430100 and fence.name == "长沙市"
    assert by_code.index.fences[0].geometry.equals(fence.geometry)
    assert len(world(loan("Atlantis")).index) == 0  # refused at import; stored anyway, it fences nothing
    assert len(world(loan("长沙市", status=LoanStatus.SETTLED)).index) == 0


def test_driving_from_changsha_to_zhuzhou_leaves_changsha_but_not_hunan() -> None:
    trip = drive(CHANGSHA, ZHUZHOU, 60)
    # The straight road dips back into a lobe of Changsha once, so the alert may be raised twice
    # (one live alert: the second refreshes it); the first exit is past the city line.
    exits = region_exits(world(loan("长沙")), loan("长沙"), trip)
    assert exits and {a.evidence["fence"]["name"] for a in exits} == {"长沙市"}
    left = datetime.fromisoformat(exits[0].evidence["fixes"][0]["ts"])
    assert T0 + timedelta(minutes=10) < left < T0 + timedelta(minutes=60)  # on the way, past the city line
    assert region_exits(world(loan("Hunan")), loan("Hunan"), trip) == []


def test_a_fence_of_the_loans_own_overrides_its_bound_region() -> None:
    ring = [[112.5, 27.5], [113.5, 27.5], [113.5, 28.5], [112.5, 28.5], [112.5, 27.5]]
    own = Fence(
        fence_id=FenceId(7),
        name="Changsha-Zhuzhou territory",
        kind=FenceKind.ALLOWED_REGION,
        geometry=parse_geometry({"type": "Polygon", "coordinates": [ring]}),
        is_global=False,
        loan_ids=frozenset({LoanId("LN-1")}),
    )
    the_world = world(loan("长沙市"), [own])
    assert [f.fence_id for f in the_world.index.fences] == [7]
    assert region_exits(the_world, loan("长沙市"), drive(CHANGSHA, ZHUZHOU, 60)) == []


def nights_at(where: tuple[float, float], nights: int, now: datetime) -> Track:
    """Hourly fixes 22:00-06:00 (Shanghai time) at one spot for the last `nights` nights."""
    rng = np.random.default_rng(3)
    ts: list[float] = []
    for n in range(nights, 0, -1):
        evening = (now - timedelta(days=n)).replace(hour=14, minute=0, second=0, microsecond=0)  # 22:00 local
        ts += [(evening + timedelta(hours=h)).timestamp() for h in range(9)]
    count = len(ts)
    lat = where[0] + rng.normal(0, 0.0001, count)
    lon = where[1] + rng.normal(0, 0.0001, count)
    return np.array(ts), lat, lon


def relocation_verdict(
    bound_region: str, where: tuple[float, float], fences: list[Fence] | None = None
) -> list[AlertDraft | Clear]:
    now = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    the_loan = loan(bound_region, home=PEOPLES_SQUARE)
    verdict = relocate(
        {DEVICE: nights_at(where, 3, now)}, world(the_loan, fences), {VIN: the_loan}, now=now, timezone="Asia/Shanghai"
    )
    return verdict.actions


def territory(fence_id: int, centre: tuple[float, float], radius_m: float) -> Fence:
    return Fence(
        fence_id=FenceId(fence_id),
        name=f"territory {fence_id}",
        kind=FenceKind.ALLOWED_REGION,
        geometry=parse_geometry({"type": "Point", "coordinates": [centre[1], centre[0]]}),
        radius_m=radius_m,
        is_global=False,
        loan_ids=frozenset({LoanId("LN-1")}),
    )


def test_nights_just_across_the_shanghai_line_are_a_relocation_the_old_box_missed() -> None:
    south, west, north, east = OLD_SHANGHAI_BOX
    assert south < KUNSHAN[0] < north and west < KUNSHAN[1] < east  # the box held Kunshan
    [alert] = relocation_verdict("CN-SH", KUNSHAN)  # the old id: now the real Shanghai
    assert isinstance(alert, AlertDraft) and alert.kind == AlertKind.RELOCATION.value
    assert alert.evidence["reason"] == "outside_region" and alert.evidence["region"] == "310000"
    assert relocation_verdict("上海市", JIADING) == []  # as far from home, still in Shanghai
    # Just across the line: 280 m into Kunshan is outside Shanghai, 280 m short of it is not.
    [across] = relocation_verdict("CN-SH", HUAQIAO_SIDE)
    assert isinstance(across, AlertDraft) and across.evidence["reason"] == "outside_region"
    assert relocation_verdict("CN-SH", ANTING_SIDE) == []
    assert relocation_verdict("Jiangsu", KUNSHAN) == []


def test_relocation_holds_the_car_to_the_same_region_as_region_exit() -> None:
    """A loan's own allowed_region fence overrides its bound region for both rules."""
    wide = territory(8, PEOPLES_SQUARE, 80_000.0)  # Shanghai and Kunshan
    assert relocation_verdict("上海市", KUNSHAN, [wide]) == []
    narrow = territory(9, PEOPLES_SQUARE, 20_000.0)
    [alert] = relocation_verdict("上海市", JIADING, [narrow])
    assert isinstance(alert, AlertDraft) and alert.evidence["region"] == "fence 9"
    # Two territories: outside is outside both.
    assert relocation_verdict("上海市", JIADING, [narrow, territory(10, JIADING, 5_000.0)]) == []
    [both] = relocation_verdict("上海市", KUNSHAN, [narrow, territory(10, JIADING, 5_000.0)])
    assert isinstance(both, AlertDraft) and both.evidence["region"] == "fence 9,fence 10"
