"""What a detector says: a condition began on a device or vehicle (with its evidence), or one ended."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.ids import DeviceId
from domain.position import Position
from domain.vocabulary import AlertKind


@dataclass(frozen=True, slots=True)
class Signal:
    """A condition was established: the engine opens (or refreshes) the alert for it."""

    kind: AlertKind
    device_id: DeviceId
    at: datetime  # event time at which the condition was established
    subject: str = ""  # within the vehicle: '' (the car), a device id, or a fence id
    evidence: dict[str, Any] = field(default_factory=dict)
    escalate: int = 0  # severity steps above the rule's level (combination rules)


@dataclass(frozen=True, slots=True)
class Ended:
    """A condition ended at `at`: the live alert (kind, subject) of the vehicle resolves with `reason`."""

    kind: AlertKind
    device_id: DeviceId
    at: datetime
    subject: str
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)  # what showed it ended (the alert keeps its own)


def fix_evidence(p: Position) -> dict[str, Any]:
    """A position as alert evidence."""
    out: dict[str, Any] = {"ts": p.ts.isoformat(), "lat": p.lat, "lon": p.lon}
    if p.accuracy_m is not None:
        out["accuracy_m"] = p.accuracy_m
    if p.speed_kmh is not None:
        out["speed_kmh"] = p.speed_kmh
    if p.ignition is not None:
        out["ignition"] = p.ignition
    if p.source != "gps":
        out["source"] = p.source
    if p.alarms:
        out["alarms"] = list(p.alarms)
    return out
