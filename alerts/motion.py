"""Per-device detectors over one device's fixes in event-time order: jumps, reappearance far away,
stops and long idle, towing, and device-raised alarms.

Theory of operation. Each device carries a small DeviceState: its last trusted fix, the anchor
of the current stay (the first fix of a run of fixes within stop_radius_m), a tow timer, and the
alarms seen on its last fix. `observe` folds one fix into the state and returns the signals it
establishes. A fix not newer than the last one is late (device backfill): it is stored by the
ingestor but changes nothing here, so a situation already over raises no alert (Traccar skips
out-of-order fixes in its event handlers for the same reason). Coarse fixes (LBS / Wi-Fi or
accuracy > 500 m) only refresh the report time and alarms: they never move the car. A fix that
implies > 300 km/h is an outlier: flagged as gps_jump, but the car stays where it was unless
the next fix confirms the new place.
"""

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from alerts.signal import Signal, fix_evidence
from alerts.thresholds import Thresholds
from domain.geo import haversine_m
from domain.position import Position
from domain.vocabulary import AlertKind

ALARM_KINDS: dict[str, AlertKind] = {
    "power_cut": AlertKind.POWER_CUT,
    "tamper": AlertKind.TAMPER,
    "removal": AlertKind.TAMPER,
    "jamming": AlertKind.JAMMING,
}


@dataclass(frozen=True, slots=True)
class DeviceState:
    last_ts: datetime | None = None  # latest fix of any kind (reporting)
    fix_ts: datetime | None = None  # latest trusted fix (position)
    lat: float = 0.0
    lon: float = 0.0
    accuracy_m: float = 0.0
    anchor_ts: datetime | None = None  # the stay began here
    anchor_lat: float = 0.0
    anchor_lon: float = 0.0
    idle_open: bool = False
    offline_open: bool = False  # an offline signal was given for the current silence
    tow_since: datetime | None = None
    tow_open: bool = False
    alarms: tuple[str, ...] = ()
    pending_lat: float | None = None  # an outlier waiting for a second fix to confirm it
    pending_lon: float | None = None

    def stopped_since(self, th: Thresholds) -> datetime | None:
        """When the current stop began, once it has lasted stop_min_s."""
        if self.anchor_ts is None or self.fix_ts is None:
            return None
        if (self.fix_ts - self.anchor_ts).total_seconds() < th.stop_min_s:
            return None
        return self.anchor_ts


def _alarms(state: DeviceState, p: Position) -> list[Signal]:
    """Edge-triggered: an alarm raises a signal when it appears, not on every fix carrying it."""
    signals = []
    for alarm in p.alarms:
        kind = ALARM_KINDS.get(alarm)
        if kind is not None and alarm not in state.alarms:
            signals.append(Signal(kind, p.device_id, p.ts, p.device_id, {"alarm": alarm, "fix": fix_evidence(p)}))
    return signals


def _tow(state: DeviceState, p: Position, th: Thresholds) -> tuple[datetime | None, bool, list[Signal]]:
    towing = p.speed_kmh is not None and p.speed_kmh > th.tow_speed_kmh and p.ignition is False
    if not towing:
        return None, False, []
    since = state.tow_since or p.ts
    if not state.tow_open and (p.ts - since).total_seconds() >= th.tow_min_s:
        evidence = {
            "since": since.isoformat(),
            "fix": fix_evidence(p),
            "min_speed_kmh": th.tow_speed_kmh,
            "min_s": th.tow_min_s,
        }
        return since, True, [Signal(AlertKind.TOW, p.device_id, p.ts, "", evidence)]
    return since, state.tow_open, []


def observe(state: DeviceState, p: Position, th: Thresholds, *, dense: bool = True) -> tuple[DeviceState, list[Signal]]:
    """Fold one fix into the device's state; the signals it establishes.

    `dense`: the device reports often enough (a wired unit) that fixes within 200 m of each other
    mean the car stood still in between, and hours of silence mean something. A wireless unit's
    fixes hours apart do not: it never judges long_idle nor reappeared_far.
    """
    if state.last_ts is not None and p.ts <= state.last_ts:
        return state, []  # late or duplicate: stored, not re-judged
    signals = _alarms(state, p)
    tow_since, tow_open, tow_signals = _tow(state, p, th)
    signals += tow_signals
    base = dataclasses.replace(
        state, last_ts=p.ts, alarms=p.alarms, tow_since=tow_since, tow_open=tow_open, offline_open=False
    )
    if p.coarse:
        return base, signals
    accuracy = p.accuracy_m or 0.0
    if state.fix_ts is None:
        return _moved_to(base, p, accuracy, th), signals
    gap = (p.ts - state.fix_ts).total_seconds()
    moved = haversine_m(state.lat, state.lon, p.lat, p.lon)
    net = moved - state.accuracy_m - accuracy
    # The speed test comes first: a fix no car could have reached is an outlier, however long
    # the silence before it, until a second fix there confirms it.
    if gap > 0 and net > th.jump_min_m and net / gap * 3.6 > th.jump_kmh:
        confirmed = (
            state.pending_lat is not None
            and state.pending_lon is not None
            and haversine_m(state.pending_lat, state.pending_lon, p.lat, p.lon) <= th.jump_min_m
        )
        if not confirmed:
            evidence = {
                "from": {"ts": state.fix_ts.isoformat(), "lat": state.lat, "lon": state.lon},
                "fix": fix_evidence(p),
                "implied_kmh": round(net / gap * 3.6),
                "limit_kmh": th.jump_kmh,
            }
            signals.append(Signal(AlertKind.GPS_JUMP, p.device_id, p.ts, p.device_id, evidence))
            return dataclasses.replace(base, pending_lat=p.lat, pending_lon=p.lon), signals
    # A wireless unit is silent for hours by design: only a dense reporter's silence means anything.
    if dense and gap >= th.reappear_gap_s and moved > th.reappear_m:
        evidence = {
            "last": {"ts": state.fix_ts.isoformat(), "lat": state.lat, "lon": state.lon},
            "fix": fix_evidence(p),
            "silent_h": round(gap / 3600, 2),
            "distance_km": round(moved / 1000, 1),
        }
        signals.append(Signal(AlertKind.REAPPEARED_FAR, p.device_id, p.ts, p.device_id, evidence))
    moved_to = _moved_to(base, p, accuracy, th, signals_out=signals, state=state)
    return (_idle(moved_to, p, th, signals) if dense else moved_to), signals


def _idle(state: DeviceState, p: Position, th: Thresholds, signals: list[Signal]) -> DeviceState:
    """long_idle once the current stop has lasted the threshold (signalled once per stop)."""
    if state.idle_open or state.anchor_ts is None:
        return state
    stopped = (p.ts - state.anchor_ts).total_seconds()
    if stopped < th.long_idle_s:
        return state
    evidence = {
        "since": state.anchor_ts.isoformat(),
        "lat": state.anchor_lat,
        "lon": state.anchor_lon,
        "stopped_h": round(stopped / 3600, 1),
        "threshold_h": th.long_idle_s / 3600,
        "fix": fix_evidence(p),
    }
    signals.append(Signal(AlertKind.LONG_IDLE, p.device_id, p.ts, "", evidence))
    return dataclasses.replace(state, idle_open=True)


def _moved_to(
    base: DeviceState,
    p: Position,
    accuracy: float,
    th: Thresholds,
    *,
    signals_out: list[Signal] | None = None,
    state: DeviceState | None = None,
) -> DeviceState:
    """Accept p as the car's position; keep or restart the stay it belongs to."""
    anchor_ts, anchor_lat, anchor_lon, idle_open = p.ts, p.lat, p.lon, False
    if state is not None and state.anchor_ts is not None:
        if haversine_m(state.anchor_lat, state.anchor_lon, p.lat, p.lon) <= th.stop_radius_m:
            anchor_ts, anchor_lat, anchor_lon, idle_open = (
                state.anchor_ts,
                state.anchor_lat,
                state.anchor_lon,
                state.idle_open,
            )
        elif state.idle_open and signals_out is not None:
            signals_out.append(
                Signal(
                    AlertKind.LONG_IDLE,
                    p.device_id,
                    p.ts,
                    "",
                    {"moved_to": fix_evidence(p)},
                    clears=True,
                    reason="vehicle moved",
                )
            )
    return dataclasses.replace(
        base,
        fix_ts=p.ts,
        lat=p.lat,
        lon=p.lon,
        accuracy_m=accuracy,
        anchor_ts=anchor_ts,
        anchor_lat=anchor_lat,
        anchor_lon=anchor_lon,
        idle_open=idle_open,
        pending_lat=None,
        pending_lon=None,
    )
