"""Membership of one device in one fence: an edge-triggered state machine written as a table.

Theory of operation. A (device, fence) pair is OUTSIDE (the default, never stored), ENTERING
(seen inside, presence not yet proven), INSIDE, or LEAVING (inside, with outside evidence
pending). Each fix is first classified against the fence into one event:

- HELD: contained (distance + accuracy <= radius − the kind's entry depth; polygons: that deep
  in the interior) and at rest (speed <= AT_REST_KMH, or ignition off with no speed);
- CONTAINED: contained, but moving or of unknown speed;
- INSIDE: the accuracy circle only overlaps the fence (distance − accuracy < radius): enough to
  stay, never to enter — a larger accuracy must not make a fence larger (Home Assistant's
  containment rule, home-assistant/core#48860);
- BAND: outside (distance − accuracy > radius) but not clearly: the hysteresis band;
- CLEAR_OUT: distance − accuracy > radius + margin;
- COARSE: an LBS / Wi-Fi fix or accuracy > 500 m (Position.coarse): never decides a crossing, but
  lets the clock run for a pending exit;
- INACTIVE: the fix falls outside the fence's active hours; the fence does not exist then, so the
  pair silently returns to OUTSIDE (no signal) and a visit inside the window enters afresh.

Entering takes a HELD fix (where the fence kind allows it) or CONTAINED / HELD fixes spanning
enter_after_s with nothing else between them; anything but a coarse fix cancels a pending entry.
The visit starts at the first of those fixes (the dwell clock too) and is signalled at the one
that proved it. Leaving takes exit_fixes clearly-outside fixes, or exit_after_s since the first
clearly-outside fix (failing one, the first BAND fix) with no fix inside since: only an
INSIDE-or-better fix cancels a pending exit, a BAND or COARSE fix lets its clock run. An exit is
dated by the fix its clock started at. A dwell signal fires once per visit on a
fix inside that comes dwell_s or more after the visit began; band fixes do not count as inside.
This is what keeps a car parked at the edge of a pawn shop's fence from flapping (Traccar #3609,
#6019) and a car parked just beyond it from dwelling there.
"""

from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum, StrEnum

from geofence.errors import IllegalTransition
from geofence.signals import POINT_RULES, Fix, Rules


class Phase(StrEnum):
    OUTSIDE = "outside"
    ENTERING = "entering"
    INSIDE = "inside"
    LEAVING = "leaving"


class Event(StrEnum):
    HELD = "held"
    CONTAINED = "contained"
    INSIDE = "inside"
    BAND = "band"
    CLEAR_OUT = "clear_out"
    COARSE = "coarse"
    INACTIVE = "inactive"


class Action(Enum):
    IGNORE = "ignore"
    ENTER = "enter"  # presence proven by this one fix
    START_ENTER = "start_enter"  # inside, presence not yet proven
    CONFIRM_ENTER = "confirm_enter"  # at rest inside: enter now
    ENTER_TIMER = "enter_timer"  # inside again: enter once the fixes span enter_after_s
    CANCEL_ENTER = "cancel_enter"  # not contained: the pending entry was a pass
    STAY = "stay"  # still inside: run the dwell timer
    START_LEAVE = "start_leave"  # first outside fix of a visit
    CONFIRM_LEAVE = "confirm_leave"  # another clearly-outside fix: exit once enough of them
    CANCEL_LEAVE = "cancel_leave"  # a fix inside: forget the pending exit
    LEAVE_TIMER = "leave_timer"  # a band or coarse fix: exit only if the pending exit is old enough
    RESET = "reset"  # fence inactive: back to OUTSIDE without a signal


_IN = (Event.HELD, Event.CONTAINED, Event.INSIDE)
TRANSITIONS: dict[tuple[Phase, Event], Action] = {
    (Phase.OUTSIDE, Event.HELD): Action.ENTER,
    (Phase.OUTSIDE, Event.CONTAINED): Action.START_ENTER,
    (Phase.OUTSIDE, Event.INSIDE): Action.IGNORE,
    (Phase.OUTSIDE, Event.BAND): Action.IGNORE,
    (Phase.OUTSIDE, Event.CLEAR_OUT): Action.IGNORE,
    (Phase.OUTSIDE, Event.COARSE): Action.IGNORE,
    (Phase.OUTSIDE, Event.INACTIVE): Action.IGNORE,
    (Phase.ENTERING, Event.HELD): Action.CONFIRM_ENTER,
    (Phase.ENTERING, Event.CONTAINED): Action.ENTER_TIMER,
    (Phase.ENTERING, Event.INSIDE): Action.CANCEL_ENTER,
    (Phase.ENTERING, Event.BAND): Action.CANCEL_ENTER,
    (Phase.ENTERING, Event.CLEAR_OUT): Action.CANCEL_ENTER,
    (Phase.ENTERING, Event.COARSE): Action.IGNORE,
    (Phase.ENTERING, Event.INACTIVE): Action.RESET,
    **{(Phase.INSIDE, e): Action.STAY for e in _IN},
    (Phase.INSIDE, Event.BAND): Action.START_LEAVE,
    (Phase.INSIDE, Event.CLEAR_OUT): Action.START_LEAVE,
    (Phase.INSIDE, Event.COARSE): Action.IGNORE,
    (Phase.INSIDE, Event.INACTIVE): Action.RESET,
    **{(Phase.LEAVING, e): Action.CANCEL_LEAVE for e in _IN},
    (Phase.LEAVING, Event.BAND): Action.LEAVE_TIMER,
    (Phase.LEAVING, Event.CLEAR_OUT): Action.CONFIRM_LEAVE,
    (Phase.LEAVING, Event.COARSE): Action.LEAVE_TIMER,
    (Phase.LEAVING, Event.INACTIVE): Action.RESET,
}


@dataclass(frozen=True, slots=True)
class FenceState:
    """A stored (device, fence) state; OUTSIDE pairs are not stored at all."""

    phase: Phase
    entered: Fix  # the first fix inside of this visit (or pending entry); the dwell clock starts here
    dwell_signalled: bool = False
    first_out: Fix | None = None  # first clearly-outside fix of a pending exit (or first band fix)
    out_count: int = 0  # clearly-outside fixes of the pending exit


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
    state: FenceState | None, event: Event, fix: Fix, *, dwell_s: int | None, rules: Rules = POINT_RULES
) -> Step:
    """Apply one classified fix to a (device, fence) state under the fence kind's rules."""
    action = action_for(state, event)
    if action is Action.IGNORE:
        return Step(state)
    if action is Action.RESET:
        return Step(None)
    if action is Action.ENTER:
        # A dwell threshold, even 0 s, is judged from the next fix on: entering is its own signal.
        return Step(FenceState(Phase.INSIDE, entered=fix), Outcome.ENTERED, (fix,))
    if action is Action.START_ENTER:
        if rules.enter_after_s <= 0:
            return Step(FenceState(Phase.INSIDE, entered=fix), Outcome.ENTERED, (fix,))
        return Step(FenceState(Phase.ENTERING, entered=fix))
    assert state is not None  # every other action starts from a stored state (see the table)
    if action is Action.CANCEL_ENTER:
        return Step(None)
    if action is Action.CONFIRM_ENTER or (
        action is Action.ENTER_TIMER and _elapsed(state.entered.ts, fix.ts) >= rules.enter_after_s
    ):
        return Step(replace(state, phase=Phase.INSIDE), Outcome.ENTERED, (state.entered, fix))
    if action is Action.ENTER_TIMER:
        return Step(state)
    if action is Action.CANCEL_LEAVE:
        return _stay(replace(state, phase=Phase.INSIDE, first_out=None, out_count=0), fix, dwell_s)
    if action is Action.STAY:
        return _stay(state, fix, dwell_s)
    if action is Action.START_LEAVE:
        count = 1 if event is Event.CLEAR_OUT else 0
        if rules.exit_fixes is not None and count >= rules.exit_fixes:
            return Step(None, Outcome.EXITED_FIXES, (fix,))
        return Step(replace(state, phase=Phase.LEAVING, first_out=fix, out_count=count))
    assert state.first_out is not None
    if action is Action.CONFIRM_LEAVE:
        if state.out_count == 0:
            # The first clear fix after band ones: the pending exit starts afresh from it (its clock
            # and its date), exactly as if the band fixes had not been seen.
            return transition(replace(state, phase=Phase.INSIDE), Event.CLEAR_OUT, fix, dwell_s=dwell_s, rules=rules)
        count = state.out_count + 1
        if rules.exit_fixes is not None and count >= rules.exit_fixes:
            return Step(None, Outcome.EXITED_FIXES, (state.first_out, fix))
        if _elapsed(state.first_out.ts, fix.ts) >= rules.exit_after_s:
            return Step(None, Outcome.EXITED_TIME, (state.first_out, fix))
        return Step(replace(state, out_count=count))
    if action is Action.LEAVE_TIMER:
        if event is Event.COARSE:  # a coarse fix proves nothing; the outside one and time do
            return expire(state, fix.ts, exit_after_s=rules.exit_after_s)
        if _elapsed(state.first_out.ts, fix.ts) >= rules.exit_after_s:
            return Step(None, Outcome.EXITED_TIME, (state.first_out, fix))
        return Step(state)
    raise IllegalTransition(str(state.phase), str(event))  # pragma: no cover - table is exhaustive


def expire(state: FenceState | None, now: datetime, *, exit_after_s: float) -> Step:
    """Time passing: a pending exit whose first outside fix is exit_after_s old completes."""
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
