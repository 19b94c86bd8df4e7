"""Absence-of-data sweeps: offline by each device's cadence (wired 24 h, wireless 2 × its schedule, default
schedule 24 h), all devices of a car offline and offline after standing still escalate; the long_idle sweep."""

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from alerts.absence import Watch, learn, long_idle, offline, offline_after_s
from alerts.motion import DeviceState
from alerts.signal import Signal
from alerts.thresholds import Thresholds
from domain.assets import Device
from domain.ids import DeviceId, Vin
from domain.vocabulary import AlertKind, DeviceKind

LAT, LON = 31.2304, 121.4737  # People's Square, Shanghai
VIN = Vin("LSVAU2180N2183294")
T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
TH = Thresholds()
HOUR = 3600.0


def wired(device_id: str = "wired-1", vin: Vin | None = VIN) -> Device:
    return Device(DeviceId(device_id), DeviceKind.WIRED, vin, moving_interval_s=10, parked_interval_s=3600)


def wireless(device_id: str = "wireless-1", vin: Vin | None = VIN, schedule_s: int | None = 12 * 3600) -> Device:
    return Device(DeviceId(device_id), DeviceKind.WIRELESS, vin, scheduled_interval_s=schedule_s)


def reported(last_h: float = 0.0, *, standing_h: float = 0.0) -> DeviceState:
    """A device whose last report was at T0 + last_h, standing at People's Square for standing_h before it."""
    last = T0 + timedelta(hours=last_h)
    return DeviceState(
        last_ts=last,
        fix_ts=last,
        lat=LAT,
        lon=LON,
        anchor_ts=last - timedelta(hours=standing_h),
        anchor_lat=LAT,
        anchor_lon=LON,
    )


def after(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def silent_ids(signals: list[Signal]) -> list[str]:
    return [s.device_id for s in signals]


# thresholds by cadence


def test_offline_after_by_device_kind_and_schedule() -> None:
    assert offline_after_s(wired(), TH) == 24 * HOUR
    assert offline_after_s(wireless(schedule_s=12 * 3600), TH) == 24 * HOUR
    assert offline_after_s(wireless(schedule_s=6 * 3600), TH) == 12 * HOUR
    assert offline_after_s(wireless(schedule_s=None), TH) == 48 * HOUR  # default schedule 24 h, twice


def test_offline_thresholds_follow_the_configuration() -> None:
    th = Thresholds(wired_offline_s=6 * HOUR, wireless_schedule_factor=3.0, wireless_default_schedule_s=8 * HOUR)
    assert offline_after_s(wired(), th) == 6 * HOUR
    assert offline_after_s(wireless(schedule_s=3600), th) == 3 * HOUR
    assert offline_after_s(wireless(schedule_s=None), th) == 24 * HOUR


# wired: 24 h


@pytest.mark.parametrize(("silent_s", "expected"), [(24 * HOUR - 1, 0), (24 * HOUR, 0), (24 * HOUR + 1, 1)])
def test_a_wired_unit_is_offline_once_silent_for_more_than_24_h(silent_s: float, expected: int) -> None:
    signals = offline([Watch(wired(vin=None), reported())], after(silent_s), TH)
    assert len(signals) == expected


def test_the_offline_signal_is_dated_at_the_crossing_with_what_was_expected() -> None:
    (signal,) = offline([Watch(wired(vin=None), reported())], after(30 * HOUR), TH)
    assert signal.kind == AlertKind.OFFLINE
    # last report + threshold, not the sweep's clock: a later sweep gives the same alert
    assert (signal.device_id, signal.subject, signal.at) == ("wired-1", "wired-1", after(24 * HOUR))
    assert isinstance(signal, Signal)
    assert signal.escalate == 0
    assert signal.evidence == {
        "last_report": T0.isoformat(),
        "offline_from": after(24 * HOUR).isoformat(),
        "expected_cadence_s": 24 * HOUR,
        "threshold_s": 24 * HOUR,
        "policy_floor_s": 24 * HOUR,
        "usual_silence_s": 0.0,
        "basis": "policy",
        "hour_utc": 2,
        "all_devices_offline": False,
        "stationary_before_h": 0.0,
    }


def test_sweeps_at_different_times_give_the_same_signal() -> None:
    watches = [Watch(wired(), reported()), Watch(wireless(schedule_s=12 * 3600), reported(3))]
    early = offline(watches, after(27 * HOUR + 1), TH)
    late = offline(watches, after(90 * HOUR), TH)
    assert early == late


# wireless: 2 × its schedule


@pytest.mark.parametrize(("silent_s", "expected"), [(24 * HOUR - 1, 0), (24 * HOUR, 0), (24 * HOUR + 1, 1)])
def test_a_wireless_unit_on_a_12_h_schedule_is_offline_after_24_h(silent_s: float, expected: int) -> None:
    signals = offline([Watch(wireless(vin=None, schedule_s=12 * 3600), reported())], after(silent_s), TH)
    assert len(signals) == expected


@pytest.mark.parametrize(("silent_s", "expected"), [(48 * HOUR, 0), (48 * HOUR + 1, 1)])
def test_a_wireless_unit_without_a_schedule_uses_the_24_h_default(silent_s: float, expected: int) -> None:
    signals = offline([Watch(wireless(vin=None, schedule_s=None), reported())], after(silent_s), TH)
    assert len(signals) == expected
    if signals:
        assert signals[0].evidence["expected_cadence_s"] == 24 * HOUR
        assert signals[0].evidence["threshold_s"] == 48 * HOUR


def test_a_wireless_unit_silent_for_30_h_is_not_offline_on_a_daily_schedule() -> None:
    # A wired unit silent that long is offline; a daily wireless unit has missed only one wake-up.
    watches = [Watch(wired("w", vin=None), reported()), Watch(wireless("s", vin=None, schedule_s=None), reported())]
    assert silent_ids(offline(watches, after(30 * HOUR), TH)) == ["w"]


def test_a_device_that_never_reported_is_not_judged() -> None:
    assert offline([Watch(wired(vin=None), DeviceState())], after(100 * HOUR), TH) == []


# all devices of a car offline: stronger


def test_both_devices_of_a_car_offline_escalates_both() -> None:
    watches = [Watch(wired(), reported()), Watch(wireless(schedule_s=12 * 3600), reported())]
    signals = offline(watches, after(25 * HOUR), TH)
    assert sorted(silent_ids(signals)) == ["wired-1", "wireless-1"]
    assert [s.escalate for s in signals] == [1, 1]
    assert all(s.evidence["all_devices_offline"] for s in signals)


def test_the_second_device_to_fall_silent_escalates_though_the_first_was_flagged_earlier() -> None:
    # The wireless unit went offline first and a sweep already gave its alert; the wired unit's
    # later alert still knows that every device of the car is silent.
    flagged = dataclasses.replace(reported(), offline_open=True)
    watches = [Watch(wireless(schedule_s=6 * 3600), flagged), Watch(wired(), reported(2))]
    (signal,) = offline(watches, after(40 * HOUR), TH)
    assert signal.device_id == "wired-1"
    assert signal.at == after(26 * HOUR)
    assert signal.escalate == 1
    assert signal.evidence["all_devices_offline"] is True


def test_a_partner_that_was_silent_then_but_has_reported_since_still_counts() -> None:
    # The wireless unit was offline from T0+12 h to T0+30 h; the wired unit crossed at T0+24 h.
    back = dataclasses.replace(
        reported(30), quiet_from=after(12 * HOUR), quiet_until=after(30 * HOUR)
    )
    watches = [Watch(wired(), reported()), Watch(wireless(schedule_s=6 * 3600), back)]
    (signal,) = offline(watches, after(31 * HOUR), TH)
    assert signal.device_id == "wired-1" and signal.escalate == 1


def test_one_device_of_two_offline_is_not_escalated() -> None:
    watches = [Watch(wired(), reported()), Watch(wireless(schedule_s=12 * 3600), reported(20))]
    (signal,) = offline(watches, after(25 * HOUR), TH)
    assert signal.device_id == "wired-1"
    assert signal.escalate == 0
    assert signal.evidence["all_devices_offline"] is False


def test_devices_of_different_cars_do_not_add_up() -> None:
    watches = [Watch(wired("a", vin=Vin("VIN-A")), reported()), Watch(wired("b", vin=Vin("VIN-B")), reported())]
    signals = offline(watches, after(25 * HOUR), TH)
    assert [s.escalate for s in signals] == [0, 0]


def test_devices_without_a_vehicle_are_never_all_devices_of_a_car() -> None:
    watches = [Watch(wired("a", vin=None), reported()), Watch(wired("b", vin=None), reported())]
    assert [s.escalate for s in offline(watches, after(25 * HOUR), TH)] == [0, 0]


# offline after standing still >= 72 h: stronger


@pytest.mark.parametrize(("standing_h", "escalate"), [(72 - 1 / 3600, 0), (72, 1), (100, 1)])
def test_offline_after_standing_still_72_h_escalates(standing_h: float, escalate: int) -> None:
    (signal,) = offline([Watch(wired(vin=None), reported(standing_h=standing_h))], after(25 * HOUR), TH)
    assert signal.escalate == escalate
    assert signal.evidence["stationary_before_h"] == round(standing_h, 1)


def test_both_devices_offline_after_standing_still_escalates_twice() -> None:
    watches = [
        Watch(wired(), reported(standing_h=80)),
        Watch(wireless(schedule_s=12 * 3600), reported(standing_h=80)),
    ]
    signals = offline(watches, after(25 * HOUR), TH)
    assert [s.escalate for s in signals] == [2, 2]


# the long_idle sweep


def test_the_sweep_raises_long_idle_for_a_stop_reported_for_exactly_72_h() -> None:
    states = {DeviceId("wired-1"): reported(72, standing_h=72)}
    (signal,) = long_idle(states, after(73 * HOUR), TH)
    assert signal.kind == AlertKind.LONG_IDLE
    assert (signal.device_id, signal.subject) == ("wired-1", "")
    assert signal.at == after(72 * HOUR)  # the stop's start + the threshold, not the sweep's clock
    assert signal.evidence == {"since": T0.isoformat(), "lat": LAT, "lon": LON, "threshold_h": 72.0}


def test_the_sweep_judges_a_silent_device_only_up_to_its_last_report() -> None:
    # Standing 72 h less a second at its last report: the silence since is offline, not idle.
    states = {DeviceId("wired-1"): reported(72 - 1 / 3600, standing_h=72 - 1 / 3600)}
    assert long_idle(states, after(200 * HOUR), TH) == []


def test_the_sweep_judges_up_to_its_clock_when_that_is_earlier() -> None:
    states = {DeviceId("wired-1"): reported(80, standing_h=80)}
    assert long_idle(states, after(72 * HOUR - 1), TH) == []
    (signal,) = long_idle(states, after(72 * HOUR), TH)
    assert signal.at == after(72 * HOUR)


def test_the_sweep_skips_a_stop_already_signalled() -> None:
    states = {DeviceId("wired-1"): dataclasses.replace(reported(90, standing_h=90), idle_open=True)}
    assert long_idle(states, after(91 * HOUR), TH) == []


def test_the_sweep_skips_devices_without_a_stop() -> None:
    states = {DeviceId("new"): DeviceState(), DeviceId("coarse-only"): DeviceState(last_ts=T0)}
    assert long_idle(states, after(100 * HOUR), TH) == []


# learned silences: what is usual for this device at this hour


def nightly(profile: tuple[int, ...], nights: int, hour: int, silent_h: float) -> tuple[int, ...]:
    for night in range(nights):
        profile = learn(profile, T0.replace(hour=hour) + timedelta(days=night), silent_h * HOUR, TH)
    return profile


def test_one_long_silence_teaches_nothing_two_make_it_usual() -> None:
    garage = wireless(schedule_s=6 * 3600)
    once = nightly((), 1, 18, 16)
    assert offline_after_s(garage, TH, dataclasses.replace(reported(), last_ts=T0.replace(hour=18), silences=once)) == (
        12 * HOUR
    )
    twice = nightly((), 2, 18, 16)
    state = dataclasses.replace(reported(), last_ts=T0.replace(hour=18), silences=twice)
    assert offline_after_s(garage, TH, state) == 1.5 * 16 * HOUR
    # a neighbouring hour shares it (schedules drift); another time of day does not
    assert offline_after_s(garage, TH, dataclasses.replace(state, last_ts=T0.replace(hour=19))) == 24 * HOUR
    assert offline_after_s(garage, TH, dataclasses.replace(state, last_ts=T0.replace(hour=9))) == 12 * HOUR


def test_a_learned_silence_never_lifts_the_threshold_past_the_ceiling() -> None:
    state = dataclasses.replace(reported(), silences=nightly((), 2, 2, 60))
    assert offline_after_s(wireless(schedule_s=6 * 3600), TH, state) == TH.offline_ceiling_s


def test_short_silences_teach_nothing() -> None:
    assert nightly((), 3, 18, 0.5) == ()


def test_the_garage_night_is_not_offline_once_usual_and_says_what_was_expected() -> None:
    state = dataclasses.replace(reported(), last_ts=T0.replace(hour=18), silences=nightly((), 2, 18, 16))
    garage = Watch(wireless(vin=None, schedule_s=6 * 3600), state)
    assert offline([garage], state.last_ts + timedelta(hours=20), TH) == []
    (signal,) = offline([garage], state.last_ts + timedelta(hours=25), TH)
    assert signal.at == state.last_ts + timedelta(hours=24)
    assert signal.evidence["basis"] == "learned"
    assert signal.evidence["usual_silence_s"] == 16 * HOUR
    assert signal.evidence["policy_floor_s"] == 12 * HOUR
