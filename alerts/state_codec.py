"""Per-device detector state as compact JSON (a few hundred bytes), so it can be stored and a
restart or rebalance resumes it: the motion state and the fence memberships, each tolerant of
fields written by another version (the detectors rebuild what is missing)."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from alerts.motion import DeviceState
from domain.ids import FenceId
from geofence.membership import FenceState, Phase
from geofence.signals import Fix
from geofence.tracker import DeviceFences

_TIMES = ("last_ts", "fix_ts", "anchor_ts", "tow_since", "quiet_from", "quiet_until")


def to_json(state: DeviceState) -> dict[str, Any]:
    """A compact JSON object (a few hundred bytes)."""
    out: dict[str, Any] = {}
    for name in DeviceState.__slots__:
        value = getattr(state, name)
        if value is None or value == () or value is False:
            continue
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def from_json(data: Mapping[str, Any]) -> DeviceState:
    """The state back from its JSON form."""
    fields: dict[str, Any] = {}
    for name, value in data.items():
        if name not in DeviceState.__slots__:
            continue  # a field from another version: the detectors rebuild it
        if name in _TIMES:
            value = datetime.fromisoformat(value)
        elif name in ("alarms", "silences"):
            value = tuple(value)
        fields[name] = value
    return DeviceState(**fields)


def fences_to_json(fenced: DeviceFences) -> dict[str, Any]:
    """A device's fence memberships: [fence id, phase, entered fix, dwell signalled, first out, outs]."""
    return {
        "fences_ts": fenced.last_ts.isoformat() if fenced.last_ts else None,
        "fences": [
            [int(fid), s.phase.value, _fix(s.entered), s.dwell_signalled, _fix(s.first_out), s.out_count]
            for fid, s in fenced.inside
        ],
    }


def fences_from_json(data: Mapping[str, Any]) -> DeviceFences:
    """A device's fence memberships back from their JSON form (none when never stored)."""
    inside = tuple(
        (FenceId(fid), FenceState(Phase(phase), _unfix(entered), dwell, _unfix(first_out) if first_out else None, outs))
        for fid, phase, entered, dwell, first_out, outs in data.get("fences", ())
    )
    last = data.get("fences_ts")
    return DeviceFences(inside, datetime.fromisoformat(last) if last else None)


def _fix(fix: Fix | None) -> list[Any] | None:
    return None if fix is None else [fix.ts.isoformat(), fix.lat, fix.lon, fix.accuracy_m, fix.coarse]


def _unfix(data: list[Any]) -> Fix:
    return Fix(datetime.fromisoformat(data[0]), data[1], data[2], data[3], data[4])


def encode(state: DeviceState, fenced: DeviceFences | None) -> str:
    """One device's whole state as the JSON text the device_state table stores."""
    return orjson.dumps(to_json(state) | (fences_to_json(fenced) if fenced else {})).decode()


def decode(data: Mapping[str, Any]) -> tuple[DeviceState, DeviceFences | None]:
    """One device's state back from its stored JSON (no fence memberships when none were kept)."""
    return from_json(data), fences_from_json(data) if data.get("fences") else None
