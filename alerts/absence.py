"""Checks that need the absence of data: offline trackers and cars standing still too long.

They run on a clock passed in: wall time in production, the event-time watermark (latest fix
seen minus the allowed lateness) in simulation and replay, so a simulated week gives the same
alerts as a real one.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from alerts.motion import DeviceState
from alerts.signal import Signal
from alerts.thresholds import Thresholds
from domain.assets import Device
from domain.ids import DeviceId, Vin
from domain.vocabulary import AlertKind, DeviceKind


@dataclass(frozen=True, slots=True)
class Watch:
    device: Device
    state: DeviceState


def offline_after_s(device: Device, th: Thresholds) -> float:
    """Silence after which this device counts as offline, by its expected cadence."""
    if device.kind == DeviceKind.WIRELESS:
        schedule = device.scheduled_interval_s or th.wireless_default_schedule_s
        return th.wireless_schedule_factor * schedule
    return th.wired_offline_s


def offline(watches: Sequence[Watch], now: datetime, th: Thresholds) -> list[Signal]:
    """One offline signal per silent device; stronger when every device of the car is silent."""
    silent: dict[DeviceId, float] = {}
    by_vin: dict[Vin | None, list[Watch]] = {}
    for w in watches:
        by_vin.setdefault(w.device.vin, []).append(w)
        if w.state.last_ts is None or w.state.offline_open:
            continue
        quiet = (now - w.state.last_ts).total_seconds()
        if quiet > offline_after_s(w.device, th):
            silent[w.device.device_id] = quiet
    signals = []
    for vin, group in by_vin.items():
        all_silent = vin is not None and len(group) > 1 and all(w.device.device_id in silent for w in group)
        for w in group:
            silent_s = silent.get(w.device.device_id)
            if silent_s is None:
                continue
            st = w.state
            idle_before = (
                st.anchor_ts is not None
                and st.last_ts is not None
                and ((st.last_ts - st.anchor_ts).total_seconds() >= th.offline_after_idle_s)
            )
            evidence = {
                "last_report": st.last_ts.isoformat() if st.last_ts else None,
                "silent_h": round(silent_s / 3600, 1),
                "expected_cadence_s": offline_after_s(w.device, th)
                / (th.wireless_schedule_factor if w.device.kind == DeviceKind.WIRELESS else 1),
                "threshold_s": offline_after_s(w.device, th),
                "all_devices_offline": all_silent,
                "stationary_before_h": round((st.last_ts - st.anchor_ts).total_seconds() / 3600, 1)
                if st.anchor_ts and st.last_ts
                else None,
            }
            escalate = int(all_silent) + int(idle_before)  # 双设备离线; offline after standing still
            signals.append(
                Signal(AlertKind.OFFLINE, w.device.device_id, now, w.device.device_id, evidence, escalate=escalate)
            )
    return signals


def long_idle(states: Mapping[DeviceId, DeviceState], now: datetime, th: Thresholds) -> list[Signal]:
    """long_idle for a car whose stop has lasted the threshold and that still reports from there."""
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
                "stopped_h": round(stopped / 3600, 1),
                "threshold_h": th.long_idle_s / 3600,
            }
            signals.append(Signal(AlertKind.LONG_IDLE, device_id, min(now, st.last_ts), "", evidence))
    return signals
