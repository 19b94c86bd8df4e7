"""What the geofence detectors say: fixes as evidence, and the enter / exit / dwell / relocation signals."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from domain.ids import DeviceId, FenceId
from domain.position import Position
from domain.vocabulary import FenceKind, RiskZoneType

# DESIGN.md, default thresholds ("leaving a fence"): clearly outside on >= 2 consecutive fixes or
# for >= 5 min; the margin is in index.MARGIN_M. These answer Traccar #3609 and #6019 (drift).
EXIT_FIXES: Final = 2
EXIT_AFTER_S: Final = 5 * 60


@dataclass(frozen=True, slots=True)
class Fix:
    """The part of a position a fence decision rests on, kept as evidence."""

    ts: datetime
    lat: float
    lon: float
    accuracy_m: float = 0.0
    coarse: bool = False

    @classmethod
    def of(cls, position: Position) -> "Fix":
        """The evidence view of a stored position (missing accuracy counts as 0 m)."""
        return cls(position.ts, position.lat, position.lon, position.accuracy_m or 0.0, position.coarse)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The thresholds a fence signal was decided with, carried into the alert's evidence."""

    radius_m: float | None
    margin_m: float
    exit_fixes: int
    exit_after_s: float
    dwell_s: int | None


@dataclass(frozen=True, slots=True)
class FenceSignal:
    """Base of the fence signals: which device, which fence, when, and the fixes that prove it."""

    device_id: DeviceId
    fence_id: FenceId
    fence_kind: FenceKind
    subtype: RiskZoneType | None
    at: datetime  # event time of the deciding fix (or the sweep instant for a timed exit)
    evidence: tuple[Fix, ...]
    thresholds: Thresholds


@dataclass(frozen=True, slots=True)
class Entered(FenceSignal):
    """The device entered the fence: one inside fix suffices (Home Assistant's lenient rule)."""


class ExitReason(StrEnum):
    FIXES = "fixes"  # clearly outside on EXIT_FIXES consecutive decisive fixes
    TIME = "time"  # clearly outside, and nothing contradicting it, for EXIT_AFTER_S


@dataclass(frozen=True, slots=True)
class Exited(FenceSignal):
    """The device left the fence; evidence is the clearly-outside fixes."""

    reason: ExitReason = ExitReason.FIXES


@dataclass(frozen=True, slots=True)
class Dwelled(FenceSignal):
    """The device has been inside at least the fence's dwell threshold; evidence: entry and now."""

    inside_s: float = 0.0


class RelocationReason(StrEnum):
    OVERNIGHT_FAR = "overnight_far"  # >= 2 overnight stays far from the home cluster
    OUTSIDE_REGION = "outside_region"  # >= 24 h outside the loan's bound region


@dataclass(frozen=True, slots=True)
class Relocation:
    """The collateral appears to have moved house: overnight stays far from home, or out of region."""

    reason: RelocationReason
    at: datetime
    evidence: tuple[Fix, ...]  # stay centres (overnight_far) or first and last outside fixes
    threshold_m: float | None = None  # distance from home (overnight_far)
    threshold_s: float | None = None  # time outside the region (outside_region)
    region_id: str | None = None
