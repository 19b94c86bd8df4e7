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
# Entering needs evidence the car is there, not just passing (Traccar #6019: fences beside busy
# roads raise enters for traffic driving by). A fix at rest — stopped, or no faster than walking
# pace across a lot — is such evidence; so are fixes inside for as long as the DESIGN.md "stopped"
# window (180 s): a car passing at 25 km/h crosses even a 350 m used-car market's fence in 100 s.
ENTER_AFTER_S: Final = 180
AT_REST_KMH: Final = 10.0
# An allowed region is left for a trip, not for a few minutes on a road along its border: clearly
# outside for 10 min (a 2-4 min excursion is not an exit), and back only when clearly inside — at
# least the margin deep — for 10 min (so a weaving trip keeps one alert open, not one per dip).
REGION_EXIT_AFTER_S: Final = 10 * 60
REGION_ENTER_AFTER_S: Final = 10 * 60


@dataclass(frozen=True, slots=True)
class Rules:
    """How much evidence a fence of one kind needs before a visit starts and before it ends."""

    enter_depth_m: float  # a fix counts for entering when distance + accuracy <= radius - this
    enter_after_s: float  # ... and such fixes, uninterrupted, span at least this long
    enter_at_rest: bool  # ... or one of them is at rest (AT_REST_KMH), which enters at once
    exit_fixes: int | None  # clearly-outside fixes that end a visit (None: only time does)
    exit_after_s: float  # outside, with no fix inside, for this long ends a visit


POINT_RULES: Final = Rules(0.0, ENTER_AFTER_S, True, EXIT_FIXES, EXIT_AFTER_S)
REGION_RULES: Final = Rules(50.0, REGION_ENTER_AFTER_S, False, None, REGION_EXIT_AFTER_S)
DEFAULT_RULES: Final[dict[FenceKind, Rules]] = {
    FenceKind.RISK_ZONE: POINT_RULES,
    FenceKind.HOME: POINT_RULES,
    FenceKind.ALLOWED_REGION: REGION_RULES,
}


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
    exit_fixes: int | None
    exit_after_s: float
    dwell_s: int | None
    enter_depth_m: float = 0.0
    enter_after_s: float = ENTER_AFTER_S


@dataclass(frozen=True, slots=True)
class FenceSignal:
    """Base of the fence signals: which device, which fence, when, and the fixes that prove it."""

    device_id: DeviceId
    fence_id: FenceId
    fence_kind: FenceKind
    subtype: RiskZoneType | None
    at: datetime  # event time of the deciding fix (an exit: the first fix of its pending exit)
    evidence: tuple[Fix, ...]
    thresholds: Thresholds


@dataclass(frozen=True, slots=True)
class Entered(FenceSignal):
    """The device entered the fence; `at` is the fix that established presence (at rest, or the
    last of the fixes inside for enter_after_s), evidence the first fix inside and that one."""


class ExitReason(StrEnum):
    FIXES = "fixes"  # clearly outside on exit_fixes decisive fixes
    TIME = "time"  # outside, and no fix inside, for exit_after_s


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
