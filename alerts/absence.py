"""Checks that need the absence of data: offline trackers and cars standing still too long.

Theory of operation. A device is offline once its silence passes its threshold; the alert is
dated at that crossing (last report + threshold), never at the moment a sweep noticed, so the
same data gives the same alerts whatever the batch sizes and however often the sweep runs. The
sweep (`offline`) judges silences still going on at `now`; the judge calls `went_offline` for a
silence that ended inside a batch (silent, then back, between two sweeps).

The threshold is the device's own: a floor from the lender's policy (wired 24 h, wireless 2 ×
its schedule) raised to what this device usually does at this hour of the day. Each device
keeps, per hour of day, its last two silences of an hour or more that began then (`Silences`);
a silence seen on both of the last two occasions around this hour is usual, and the threshold
becomes `offline_learned_margin` times it, never more than `offline_ceiling_s`. A wireless unit
in an underground garage that misses its night slots every night is thus offline only when a
night runs well past its usual nights.

They run on a clock passed in: wall time in production, the event-time watermark (latest fix
seen minus the allowed lateness) in simulation and replay.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from alerts.motion import DeviceState
from alerts.signal import Signal
from alerts.thresholds import Thresholds
from domain.assets import Device
from domain.ids import DeviceId, Vin
from domain.vocabulary import AlertKind, DeviceKind

# Per hour of day (UTC), the last and the previous silence that began in it, in minutes: 48 ints.
Silences = tuple[int, ...]
_HOURS = 24


@dataclass(frozen=True, slots=True)
class Watch:
    device: Device
    state: DeviceState
    thresholds: Thresholds | None = None  # its loan's portfolio's; None: the sweep's

    def th(self, default: Thresholds) -> Thresholds:
        return self.thresholds or default


@dataclass(frozen=True, slots=True)
class Expectation:
    """What a device's silence is measured against, after a report at `since`."""

    threshold_s: float
    floor_s: float  # the lender's policy
    usual_s: float  # the longest silence this device usually has around this hour (0: none learned)
    hour: int  # UTC hour of the last report

    def evidence(self, device: Device, th: Thresholds) -> dict[str, Any]:
        """The expectation as alert evidence: what was expected and why."""
        return {
            "expected_cadence_s": self.floor_s
            / (th.wireless_schedule_factor if device.kind == DeviceKind.WIRELESS else 1),
            "threshold_s": self.threshold_s,
            "policy_floor_s": self.floor_s,
            "usual_silence_s": self.usual_s,
            "basis": "learned" if self.threshold_s > self.floor_s else "policy",
            "hour_utc": self.hour,
        }


def policy_floor_s(device: Device, th: Thresholds) -> float:
    """The policy's silence after which this device counts as offline, by its expected cadence."""
    if device.kind == DeviceKind.WIRELESS:
        schedule = device.scheduled_interval_s or th.wireless_default_schedule_s
        return th.wireless_schedule_factor * schedule
    return th.wired_offline_s


def usual_s(silences: Silences, hour: int) -> float:
    """The silence this device had on both of its last two occasions around `hour` (0 if none)."""
    if not silences:
        return 0.0
    best = 0
    for h in (hour - 1, hour, hour + 1):
        i = 2 * (h % _HOURS)
        best = max(best, min(silences[i], silences[i + 1]))
    return best * 60.0


def expect(device: Device, state: DeviceState, th: Thresholds) -> Expectation:
    """The threshold of the silence that began with the device's last report."""
    floor = policy_floor_s(device, th)
    hour = state.last_ts.hour if state.last_ts is not None else 0
    usual = usual_s(state.silences, hour)
    learned = min(th.offline_ceiling_s, th.offline_learned_margin * usual)
    return Expectation(max(floor, learned), floor, usual, hour)


def offline_after_s(device: Device, th: Thresholds, state: DeviceState | None = None) -> float:
    """Silence after which this device counts as offline (its learned habits when a state is given)."""
    return expect(device, state, th).threshold_s if state is not None else policy_floor_s(device, th)


def learn(silences: Silences, began: datetime, silent_s: float, th: Thresholds) -> Silences:
    """The profile after a silence of `silent_s` that began at `began` (short ones teach nothing)."""
    if silent_s < th.offline_learn_min_s:
        return silences
    table = list(silences) if silences else [0] * (2 * _HOURS)
    i = 2 * began.hour
    table[i + 1] = table[i]
    table[i] = min(int(silent_s // 60), 2**31 - 1)
    return tuple(table)


def silent_at(device: Device, state: DeviceState, t: datetime, th: Thresholds) -> bool:
    """Whether the device was offline at `t`, as far as its state tells."""
    if state.last_ts is None:
        return False
    if state.last_ts <= t:
        return (t - state.last_ts).total_seconds() >= offline_after_s(device, th, state)
    # It has reported since: was t inside its last silence?
    return state.quiet_from is not None and state.quiet_until is not None and state.quiet_from <= t < state.quiet_until


def went_offline(watch: Watch, partners: Sequence[Watch], th: Thresholds) -> Signal:
    """The offline signal of a device whose silence has passed its threshold; dated at the crossing.

    Stronger when every device of the car was silent at that moment (双设备离线), whatever order
    they fell silent in, and when the car had stood still for long before (offline after idle).
    """
    st = watch.state
    assert st.last_ts is not None
    th = watch.th(th)
    expectation = expect(watch.device, st, th)
    at = st.last_ts + timedelta(seconds=expectation.threshold_s)
    all_silent = bool(partners) and all(silent_at(w.device, w.state, at, w.th(th)) for w in partners)
    stood_s = (st.last_ts - st.anchor_ts).total_seconds() if st.anchor_ts is not None else None
    idle_before = stood_s is not None and stood_s >= th.offline_after_idle_s
    evidence = {
        "last_report": st.last_ts.isoformat(),
        "offline_from": at.isoformat(),
        **expectation.evidence(watch.device, th),
        "all_devices_offline": all_silent,
        "stationary_before_h": round(stood_s / 3600, 1) if stood_s is not None else None,
    }
    escalate = int(all_silent) + int(idle_before)
    device_id = watch.device.device_id
    return Signal(AlertKind.OFFLINE, device_id, at, device_id, evidence, escalate=escalate)


def offline(watches: Sequence[Watch], now: datetime, th: Thresholds) -> list[Signal]:
    """One offline signal per device whose silence passed its threshold before `now` (once per silence)."""
    by_vin: dict[Vin | None, list[Watch]] = {}
    for w in watches:
        by_vin.setdefault(w.device.vin, []).append(w)
    signals = []
    for vin, group in by_vin.items():
        for w in group:
            st = w.state
            if st.last_ts is None or st.offline_open:
                continue
            if (now - st.last_ts).total_seconds() <= offline_after_s(w.device, w.th(th), st):
                continue
            partners = [o for o in group if o is not w] if vin is not None else []
            signals.append(went_offline(w, partners, th))
    return sorted(signals, key=lambda s: (s.at, s.device_id))


def long_idle(states: Mapping[DeviceId, DeviceState], now: datetime, th: Thresholds) -> list[Signal]:
    """long_idle for a car whose stop has lasted the threshold and that still reports from there.

    Dated at the crossing (the stop's start + the threshold), so it does not move with the sweep.
    """
    signals = []
    for device_id, st in states.items():
        if st.idle_open or st.anchor_ts is None or st.last_ts is None:
            continue
        # A silent device is offline, not idle: judge the stop only up to its last report.
        stopped = (min(now, st.last_ts) - st.anchor_ts).total_seconds()
        if stopped >= th.long_idle_s:
            evidence = {
                "since": st.anchor_ts.isoformat(),
                "lat": st.anchor_lat,
                "lon": st.anchor_lon,
                "threshold_h": th.long_idle_s / 3600,
            }
            at = st.anchor_ts + timedelta(seconds=th.long_idle_s)
            signals.append(Signal(AlertKind.LONG_IDLE, device_id, at, "", evidence))
    return signals
