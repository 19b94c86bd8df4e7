"""Membership of one device in one fence: an edge-triggered state machine written as a table.

Theory of operation. A (device, fence) pair is OUTSIDE (the default, never stored), INSIDE, or
LEAVING (inside, with clearly-outside evidence pending). Each fix is first classified against the
fence into one event:

- INSIDE: distance − accuracy < radius (polygons buffered by accuracy);
- BAND: neither inside nor clearly outside — the hysteresis band, which decides nothing;
- CLEAR_OUT: distance − accuracy > radius + margin;
- COARSE: an LBS / Wi-Fi fix or accuracy > 500 m (Position.coarse): never decides a crossing, but
  lets the clock run for a pending exit;
- INACTIVE: the fix falls outside the fence's active hours; the fence does not exist then, so the
  pair silently returns to OUTSIDE (no exit signal) and a visit inside the window enters afresh.

Entering takes one inside fix (Home Assistant's lenient rule). Leaving takes EXIT_FIXES consecutive
clearly-outside fixes, or EXIT_AFTER_S since the first of them with no fix saying otherwise (a BAND
or INSIDE fix cancels a pending exit). A dwell signal fires once per visit when an inside or band
fix comes dwell_s or more after the entering fix. This is what keeps a car parked at the edge of a
pawn shop's fence from flapping (Traccar #3609, #6019).
"""

from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum, StrEnum

from geofence.errors import IllegalTransition
from geofence.signals import EXIT_AFTER_S, EXIT_FIXES, Fix


class Phase(StrEnum):
    OUTSIDE = "outside"
    INSIDE = "inside"
    LEAVING = "leaving"


class Event(StrEnum):
    INSIDE = "inside"
    BAND = "band"
    CLEAR_OUT = "clear_out"
    COARSE = "coarse"
    INACTIVE = "inactive"


class Action(Enum):
    IGNORE = "ignore"
    ENTER = "enter"
    STAY = "stay"  # still inside: run the dwell timer
    START_LEAVE = "start_leave"
    CONFIRM_LEAVE = "confirm_leave"  # another clearly-outside fix: exit once enough of them
    CANCEL_LEAVE = "cancel_leave"  # back inside (or in the band): forget the pending exit
    LEAVE_TIMER = "leave_timer"  # a coarse fix: exit only if the pending exit is old enough
    RESET = "reset"  # fence inactive: back to OUTSIDE without a signal


TRANSITIONS: dict[tuple[Phase, Event], Action] = {
    (Phase.OUTSIDE, Event.INSIDE): Action.ENTER,
    (Phase.OUTSIDE, Event.BAND): Action.IGNORE,
    (Phase.OUTSIDE, Event.CLEAR_OUT): Action.IGNORE,
    (Phase.OUTSIDE, Event.COARSE): Action.IGNORE,
    (Phase.OUTSIDE, Event.INACTIVE): Action.IGNORE,
    (Phase.INSIDE, Event.INSIDE): Action.STAY,
    (Phase.INSIDE, Event.BAND): Action.STAY,
    (Phase.INSIDE, Event.CLEAR_OUT): Action.START_LEAVE,
    (Phase.INSIDE, Event.COARSE): Action.IGNORE,
    (Phase.INSIDE, Event.INACTIVE): Action.RESET,
    (Phase.LEAVING, Event.INSIDE): Action.CANCEL_LEAVE,
    (Phase.LEAVING, Event.BAND): Action.CANCEL_LEAVE,
    (Phase.LEAVING, Event.CLEAR_OUT): Action.CONFIRM_LEAVE,
    (Phase.LEAVING, Event.COARSE): Action.LEAVE_TIMER,
    (Phase.LEAVING, Event.INACTIVE): Action.RESET,
}


@dataclass(frozen=True, slots=True)
class FenceState:
    """A stored (device, fence) state; OUTSIDE pairs are not stored at all."""

    phase: Phase
    entered: Fix  # the fix that entered; the dwell clock starts here
    dwell_signalled: bool = False
    first_out: Fix | None = None  # first clearly-outside fix of a pending exit
    out_count: int = 0


class Outcome(Enum):
    NONE = "none"
    ENTERED = "entered"
    EXITED_FIXES = "exited_fixes"
    EXITED_TIME = "exited_time"
    DWELLED = "dwelled"


@dataclass(frozen=True, slots=True)
class Step:
    """The result of one transition: the new state (None = OUTSIDE) and what, if anything, happened."""

    state: FenceState | None
    outcome: Outcome = Outcome.NONE
    evidence: tuple[Fix, ...] = ()


def action_for(state: FenceState | None, event: Event) -> Action:
    """Look the (phase, event) pair up in the table; unknown pairs raise IllegalTransition."""
    phase = Phase.OUTSIDE if state is None else state.phase
    try:
        return TRANSITIONS[(phase, event)]
    except KeyError:
        raise IllegalTransition(str(phase), str(event)) from None


def transition(
    state: FenceState | None,
    event: Event,
    fix: Fix,
    *,
    dwell_s: int | None,
    exit_fixes: int = EXIT_FIXES,
    exit_after_s: float = EXIT_AFTER_S,
) -> Step:
    """Apply one classified fix to a (device, fence) state."""
    action = action_for(state, event)
    if action is Action.IGNORE:
        return Step(state)
    if action is Action.RESET:
        return Step(None)
    if action is Action.ENTER:
        # A dwell threshold, even 0 s, is judged from the next fix on: entering is its own signal.
        return Step(FenceState(Phase.INSIDE, entered=fix), Outcome.ENTERED, (fix,))
    assert state is not None  # every other action starts from a stored state (see the table)
    if action is Action.CANCEL_LEAVE:
        return _stay(replace(state, phase=Phase.INSIDE, first_out=None, out_count=0), fix, dwell_s)
    if action is Action.STAY:
        return _stay(state, fix, dwell_s)
    if action is Action.START_LEAVE:
        leaving = replace(state, phase=Phase.LEAVING, first_out=fix, out_count=1)
        if exit_fixes <= 1:
            return Step(None, Outcome.EXITED_FIXES, (fix,))
        return Step(leaving)
    assert state.first_out is not None
    if action is Action.CONFIRM_LEAVE:
        count = state.out_count + 1
        if count >= exit_fixes:
            return Step(None, Outcome.EXITED_FIXES, (state.first_out, fix))
        if _elapsed(state.first_out.ts, fix.ts) >= exit_after_s:
            return Step(None, Outcome.EXITED_TIME, (state.first_out, fix))
        return Step(replace(state, out_count=count))
    if action is Action.LEAVE_TIMER:
        return expire(state, fix.ts, exit_after_s=exit_after_s)
    raise IllegalTransition(str(state.phase), str(event))  # pragma: no cover - table is exhaustive


def expire(state: FenceState | None, now: datetime, *, exit_after_s: float = EXIT_AFTER_S) -> Step:
    """Time passing: a pending exit whose first clearly-outside fix is exit_after_s old completes."""
    if state is None or state.phase is not Phase.LEAVING or state.first_out is None:
        return Step(state)
    if _elapsed(state.first_out.ts, now) >= exit_after_s:
        return Step(None, Outcome.EXITED_TIME, (state.first_out,))
    return Step(state)


def _stay(state: FenceState, fix: Fix, dwell_s: int | None) -> Step:
    if dwell_s is None or state.dwell_signalled or _elapsed(state.entered.ts, fix.ts) < dwell_s:
        return Step(state)
    return Step(replace(state, dwell_signalled=True), Outcome.DWELLED, (state.entered, fix))


def _elapsed(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds()
