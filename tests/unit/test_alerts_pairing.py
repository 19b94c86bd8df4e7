"""device_separation: wired and wireless more than 1 km apart net of both accuracies and the ground a car could
cover between their fixes (120 km/h), with fixes within 10 minutes of each other, or the wireless fix falling
inside a dense (wired) partner's stop — its hourly parked heartbeats pin it down."""

import math
from datetime import UTC, datetime, timedelta

from alerts.motion import DeviceState, observe
from alerts.pairing import partner_at, separation
from alerts.signal import Signal
from alerts.thresholds import Thresholds
from domain.geo import EARTH_RADIUS_M, haversine_m
from domain.ids import DeviceId
from domain.position import Position
from domain.vocabulary import AlertKind, DeviceKind

LAT, LON = 31.2304, 121.4737  # People's Square, Shanghai: where the wired unit is
M_PER_DEG_LAT = EARTH_RADIUS_M * math.pi / 180
WIRED = DeviceId("wired-1")
WIRELESS = DeviceId("wireless-1")
T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
TH = Thresholds()


def north(metres: float) -> float:
    lat = LAT + metres / M_PER_DEG_LAT
    while haversine_m(LAT, LON, lat, LON) > metres:
        lat = math.nextafter(lat, -math.inf)
    assert metres - haversine_m(LAT, LON, lat, LON) < 1e-6
    return lat


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def moving_partner(seconds: float = 0.0, *, acc: float = 0.0) -> DeviceState:
    """The wired unit, its last trusted fix at People's Square, just arrived (no stop yet)."""
    ts = at(seconds)
    return DeviceState(
        last_ts=ts, fix_ts=ts, lat=LAT, lon=LON, accuracy_m=acc, anchor_ts=ts, anchor_lat=LAT, anchor_lon=LON
    )


def stopped_partner(since_s: float, last_s: float) -> DeviceState:
    """The wired unit standing at People's Square since `since_s`, its last heartbeat 80 m off at `last_s`."""
    return DeviceState(
        last_ts=at(last_s),
        fix_ts=at(last_s),
        lat=north(80.0),
        lon=LON,
        accuracy_m=0.0,
        anchor_ts=at(since_s),
        anchor_lat=LAT,
        anchor_lon=LON,
    )


def wireless_fix(seconds: float, north_m: float, *, acc: float | None = 0.0, source: str = "gps") -> Position:
    ts = at(seconds)
    return Position(WIRELESS, ts, north(north_m), LON, ts, accuracy_m=acc, source=source)


def apart_fix(net_m: float, seconds: float = 0.0) -> Position:
    """A wireless fix whose distance from the wired unit, net of its own accuracy, is exactly net_m."""
    lat = north(net_m + 200.0)
    d = haversine_m(lat, LON, LAT, LON)
    acc = d - net_m  # exact: d and net_m are within a factor of two
    assert d - acc - 0.0 == net_m
    ts = at(seconds)
    return Position(WIRELESS, ts, lat, LON, ts, accuracy_m=acc)


def sep(p: Position, partner: DeviceState, *, kind: DeviceKind = DeviceKind.WIRED) -> Signal | None:
    return separation(p, WIRED, partner, TH, partner_kind=kind)


# the 1 km threshold, net of both accuracies (fixes taken at the same moment: no driving slack)


def test_exactly_1_km_apart_net_of_accuracy_is_no_separation() -> None:
    assert sep(apart_fix(1000.0), moving_partner()) is None


def test_just_under_1_km_is_no_separation() -> None:
    assert sep(apart_fix(999.0), moving_partner()) is None


def test_just_over_1_km_is_a_separation_with_both_places_as_evidence() -> None:
    p = apart_fix(1001.0)
    signal = sep(p, moving_partner())
    assert signal is not None
    assert signal.kind == AlertKind.DEVICE_SEPARATION
    assert (signal.device_id, signal.subject, signal.at) == (WIRELESS, "", p.ts)
    assert signal.evidence["apart_m"] == 1001
    assert signal.evidence["threshold_m"] == 1000.0
    assert signal.evidence["partner"] == {"device_id": WIRED, "lat": LAT, "lon": LON, "ts": T0.isoformat()}
    assert signal.evidence["fix"]["lat"] == p.lat


def test_the_partners_accuracy_is_netted_out_too() -> None:
    p = wireless_fix(0, 1_300.0, acc=10.0)
    assert sep(p, moving_partner(acc=5.0)) is not None  # 1,285 m net
    assert sep(p, moving_partner(acc=295.0)) is None  # 995 m net


def test_a_fix_without_accuracy_counts_as_exact() -> None:
    assert sep(wireless_fix(0, 1_001.0, acc=None), moving_partner()) is not None


def test_a_coarse_fix_never_raises_a_separation() -> None:
    assert sep(wireless_fix(0, 50_000.0, acc=300.0, source="lbs"), moving_partner()) is None
    assert sep(wireless_fix(0, 50_000.0, acc=501.0), moving_partner()) is None


# the 10-minute window, less the ground a car covers at 120 km/h between the two fixes


def test_a_minute_between_fixes_allows_2_km_of_driving() -> None:
    # 60 s at 120 km/h is 2 km: the units must be more than 3 km apart to disagree.
    assert sep(wireless_fix(60, 2_900.0), moving_partner()) is None
    signal = sep(wireless_fix(60, 3_100.0), moving_partner())
    assert signal is not None
    assert signal.evidence["apart_m"] == 1100


def test_fixes_exactly_10_min_apart_are_compared() -> None:
    # 600 s at 120 km/h is 20 km of slack; 30 km apart is still 10 km too far.
    assert sep(wireless_fix(600, 30_000.0), moving_partner()) is not None
    assert sep(wireless_fix(-600, 30_000.0), moving_partner()) is not None


def test_fixes_just_over_10_min_apart_are_not_compared_while_the_partner_moves() -> None:
    assert sep(wireless_fix(601, 30_000.0), moving_partner()) is None
    assert sep(wireless_fix(-601, 30_000.0), moving_partner()) is None


def test_a_partner_without_a_trusted_fix_is_nowhere() -> None:
    only_coarse = DeviceState(last_ts=T0)
    assert partner_at(only_coarse, wireless_fix(0, 5_000.0), TH, kind=DeviceKind.WIRED) is None
    assert sep(wireless_fix(0, 5_000.0), only_coarse) is None


# the stopped-partner rule: a parked wired unit stands where it stopped, until 70 min after its last report


def test_a_stopped_partner_is_believed_at_its_stop_between_heartbeats() -> None:
    partner = stopped_partner(since_s=0, last_s=3 * 3600)
    p = wireless_fix(3 * 3600 + 40 * 60, 5_000.0)  # 40 min after the last heartbeat: outside the window
    assert partner_at(partner, p, TH, kind=DeviceKind.WIRED) == (LAT, LON, 0.0)  # the stop's anchor, no driving slack
    signal = sep(p, partner)
    assert signal is not None
    assert (signal.evidence["partner"]["lat"], signal.evidence["partner"]["ts"]) == (LAT, at(3 * 3600).isoformat())


def test_inside_the_window_a_stopped_partner_gets_no_driving_slack() -> None:
    partner = stopped_partner(since_s=0, last_s=3600)
    p = wireless_fix(3600 + 300, 5_000.0)  # 5 min later: a moving partner would get 10 km of slack
    assert sep(p, partner) is not None
    assert sep(p, moving_partner(3600)) is None


def test_a_sparse_partner_is_not_pinned_down_by_its_stop() -> None:
    # A wireless unit's fixes an hour apart at one place do not prove the car stood there in between.
    partner = stopped_partner(since_s=0, last_s=3 * 3600)
    p = wireless_fix(3 * 3600 + 40 * 60, 5_000.0)
    assert partner_at(partner, p, TH, kind=DeviceKind.WIRELESS) is None
    assert sep(p, partner, kind=DeviceKind.WIRELESS) is None


def test_a_stopped_partner_is_trusted_up_to_exactly_70_min_after_its_last_report() -> None:
    partner = stopped_partner(since_s=0, last_s=3600)
    assert sep(wireless_fix(3600 + 70 * 60, 5_000.0), partner) is not None
    assert sep(wireless_fix(3600 + 70 * 60 + 1, 5_000.0), partner) is None


def test_a_fix_from_before_the_partner_stopped_is_not_judged_by_the_stop() -> None:
    partner = stopped_partner(since_s=2 * 3600, last_s=3 * 3600)
    assert sep(wireless_fix(2 * 3600 - 1, 5_000.0), partner) is None
    assert sep(wireless_fix(2 * 3600, 5_000.0), partner) is not None


def test_the_partner_counts_as_stopped_from_180_s_not_179() -> None:
    p_s = 180 + 900  # 15 min after the partner's last fix: only the stop rule can place it
    assert sep(wireless_fix(p_s, 5_000.0), stopped_partner(since_s=1, last_s=180)) is None
    assert sep(wireless_fix(p_s, 5_000.0), stopped_partner(since_s=0, last_s=180)) is not None


def test_a_parked_wired_unit_built_by_the_detector_pins_the_car_down() -> None:
    state = DeviceState()
    for minutes in (0, 60, 120):
        ts = at(minutes * 60)
        state, _ = observe(state, Position(WIRED, ts, LAT, LON, ts, accuracy_m=8.0), TH)
    near = wireless_fix(150 * 60, 300.0, acc=20.0)
    far = wireless_fix(150 * 60, 30_000.0, acc=20.0)
    assert sep(near, state) is None
    signal = sep(far, state)
    assert signal is not None
    assert signal.evidence["apart_m"] == round(haversine_m(far.lat, LON, LAT, LON) - 28.0)
