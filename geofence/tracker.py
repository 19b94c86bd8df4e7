"""Fence membership for a batch of fixes: per-device state in, new state and signals out.

This is the detector pipeline's entry point. One vectorised index query covers the whole batch;
then each device's fixes are walked in time order through the membership table (membership.py),
touching only the fences near the fix plus those the device is already in, under the rules of
each fence's kind (signals.DEFAULT_RULES). Device state is a small tuple of (fence id,
FenceState) for the fences the device is inside, entering or leaving; it is stored with the
device's detector state (alerts.state_codec), so a restart resumes it, and batches of any size
give the same state. A device that falls silent while leaving is finished by expire_silent(),
which the absence sweep calls with its clock.
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from domain.ids import DeviceId, FenceId, LoanId
from domain.position import Position
from domain.vocabulary import FenceKind
from geofence.fence import Fence
from geofence.index import FenceIndex, Membership
from geofence.membership import Event, FenceState, Outcome, Phase, Step, expire, transition
from geofence.signals import (
    AT_REST_KMH,
    DEFAULT_RULES,
    Dwelled,
    Entered,
    Exited,
    ExitReason,
    FenceSignal,
    Fix,
    Rules,
    Thresholds,
)

RuleBook = Mapping[FenceKind, Rules]


@dataclass(frozen=True, slots=True)
class DeviceFences:
    """One device's fence state: the fences it is entering, inside or leaving, and its last fix time."""

    inside: tuple[tuple[FenceId, FenceState], ...] = ()
    last_ts: datetime | None = None


@dataclass(frozen=True, slots=True)
class BatchResult:
    """New state per device seen in the batch, the signals in event order, and stale fixes skipped."""

    states: dict[DeviceId, DeviceFences]
    signals: list[FenceSignal] = field(default_factory=list)
    stale: int = 0  # fixes not newer than the device's last processed fix: ignored


def evaluate_batch(
    index: FenceIndex,
    positions: Sequence[Position],
    states: Mapping[DeviceId, DeviceFences],
    loans: Mapping[DeviceId, frozenset[LoanId]],
    *,
    rules: RuleBook = DEFAULT_RULES,
) -> BatchResult:
    """Run a batch of positions (any devices, any order) through the fences; pure."""
    ordered = sorted(positions, key=lambda p: (p.device_id, p.ts))
    coords = np.array([(p.lat, p.lon, p.accuracy_m or 0.0) for p in ordered], np.float64).reshape(-1, 3)
    pairs = _Pairs.of(index.evaluate(coords[:, 0], coords[:, 1], coords[:, 2]))
    by_device: dict[DeviceId, list[int]] = defaultdict(list)
    for row, p in enumerate(ordered):
        by_device[p.device_id].append(row)
    new_states: dict[DeviceId, DeviceFences] = {}
    signals: list[FenceSignal] = []
    stale = 0
    for device_id, rows in by_device.items():
        fixes = [ordered[r] for r in rows]
        state, device_signals, skipped = _advance(
            device_id,
            states.get(device_id, DeviceFences()),
            fixes,
            rows,
            pairs,
            index,
            loans.get(device_id, frozenset()),
            rules,
        )
        new_states[device_id] = state
        signals.extend(device_signals)
        stale += skipped
    signals.sort(key=lambda s: s.at)
    return BatchResult(new_states, signals, stale)


def expire_silent(
    index: FenceIndex, states: Mapping[DeviceId, DeviceFences], now: datetime, *, rules: RuleBook = DEFAULT_RULES
) -> BatchResult:
    """Time passing with no fix: complete the exits pending for their kind's exit_after_s at `now`.

    The absence sweep calls it with its clock (wall time, or the event-time watermark in
    simulation) and every device's fence state: `expire_silent(world.index, memory.fences, now)`.
    A device that leaves a fence and then falls silent (cut, jammed, out of coverage) would
    otherwise stay "leaving" until it reports again. Only devices whose state changed are in
    `states`; the signals are dated like any exit, by the first clearly-outside fix of the pending exit.
    """
    changed: dict[DeviceId, DeviceFences] = {}
    signals: list[FenceSignal] = []
    for device_id, state in states.items():
        if not any(s.phase is Phase.LEAVING for _, s in state.inside):
            continue
        kept: list[tuple[FenceId, FenceState]] = []
        found: list[FenceSignal] = []
        for fence_id, fence_state in state.inside:
            row = index.row_of.get(fence_id)
            if row is None:
                continue  # the fence is gone: its state goes with it, silently
            kind_rules = rules[index.fences[row].kind]
            step = expire(fence_state, now, exit_after_s=kind_rules.exit_after_s)
            if step.state is not None:
                kept.append((fence_id, step.state))
            if step.outcome is not Outcome.NONE:
                found.append(_signal(device_id, index, row, step, now, kind_rules))
        if found:
            changed[device_id] = DeviceFences(tuple(kept), state.last_ts)
            signals.extend(found)
    signals.sort(key=lambda s: s.at)
    return BatchResult(changed, signals)


@dataclass(frozen=True, slots=True)
class _Pairs:
    """A batch's candidate pairs as Python lists: the walk below reads them a fix at a time, where a
    numpy slice and its reductions cost more than the few pairs they hold."""

    fence: list[int]
    inside: list[bool]
    clear_out: list[bool]
    contained: list[bool]
    offsets: list[int]

    @classmethod
    def of(cls, membership: Membership) -> "_Pairs":
        return cls(
            membership.fence.tolist(),
            membership.inside.tolist(),
            membership.clear_out.tolist(),
            membership.contained.tolist(),
            membership.offsets.tolist(),
        )


def _advance(
    device_id: DeviceId,
    state: DeviceFences,
    fixes: Sequence[Position],
    rows: Sequence[int],
    pairs: _Pairs,
    index: FenceIndex,
    loan_ids: frozenset[LoanId],
    rules: RuleBook,
) -> tuple[DeviceFences, list[FenceSignal], int]:
    current: dict[FenceId, FenceState] = {f: s for f, s in state.inside if f in index.row_of}
    signals: list[FenceSignal] = []
    last_ts = state.last_ts
    stale = 0
    for position, row in zip(fixes, rows, strict=True):
        if last_ts is not None and position.ts <= last_ts:
            stale += 1
            continue
        last_ts = position.ts
        if current:  # an exit whose time ran out before this fix is over, as a sweep would have found
            _expire_overdue(device_id, current, position.ts, index, rules, signals)
        start, stop = pairs.offsets[row], pairs.offsets[row + 1]
        if start == stop and not current:
            continue  # near no fence and inside none: nothing can change (most fixes of a fleet)
        if current and _settled_inside(current, start, stop, position, pairs, index, loan_ids):
            continue  # still inside the same fences, no timer running: STAY changes nothing
        fix = Fix.of(position)
        rest = at_rest(position)
        near = {pairs.fence[k]: (pairs.inside[k], pairs.clear_out[k], pairs.contained[k]) for k in range(start, stop)}
        touched = set(near) | {index.row_of[f] for f in current}
        for fence_row in sorted(touched):
            fence = index.fences[fence_row]
            if not fence.applies_to(loan_ids):
                current.pop(fence.fence_id, None)  # the loan was unbound: forget, say nothing
                continue
            kind_rules = rules[fence.kind]
            event = _classify(fence, fix, near.get(fence_row), rest and kind_rules.enter_at_rest)
            step = transition(current.get(fence.fence_id), event, fix, dwell_s=fence.dwell_s, rules=kind_rules)
            if step.state is None:
                current.pop(fence.fence_id, None)
            else:
                current[fence.fence_id] = step.state
            if step.outcome is not Outcome.NONE:
                signals.append(_signal(device_id, index, fence_row, step, fix.ts, kind_rules))
    return DeviceFences(tuple(sorted(current.items())), last_ts), signals, stale


def _expire_overdue(
    device_id: DeviceId,
    current: dict[FenceId, FenceState],
    now: datetime,
    index: FenceIndex,
    rules: RuleBook,
    signals: list[FenceSignal],
) -> None:
    """Complete the pending exits whose exit time has passed by `now`, in place.

    The fix that follows a silence is judged after them: whether the sweep ran during the
    silence or not, a car that left and came back later than the exit time has left.
    """
    for fence_id, state in list(current.items()):
        if state.phase is not Phase.LEAVING:
            continue
        row = index.row_of[fence_id]
        kind_rules = rules[index.fences[row].kind]
        step = expire(state, now, exit_after_s=kind_rules.exit_after_s)
        if step.outcome is not Outcome.NONE:
            del current[fence_id]
            signals.append(_signal(device_id, index, row, step, now, kind_rules))


def _settled_inside(
    current: dict[FenceId, FenceState],
    start: int,
    stop: int,
    position: Position,
    pairs: _Pairs,
    index: FenceIndex,
    loan_ids: frozenset[LoanId],
) -> bool:
    """True when this fix would only STAY in every fence the device is in (e.g. its home region)."""
    if position.coarse or stop - start != len(current):
        return False
    for k in range(start, stop):
        if not pairs.inside[k]:
            return False
        fence = index.fences[pairs.fence[k]]
        state = current.get(fence.fence_id)
        if state is None or state.phase is not Phase.INSIDE or fence.active_hours is not None:
            return False
        if not fence.applies_to(loan_ids):
            return False
        if fence.dwell_s is not None and not state.dwell_signalled:
            return False
    return True


def at_rest(position: Position) -> bool:
    """True when the fix shows the car stopped or creeping (speed, or else ignition off)."""
    if position.speed_kmh is not None:
        return position.speed_kmh <= AT_REST_KMH
    return position.ignition is False


def _classify(fence: Fence, fix: Fix, verdict: tuple[bool, bool, bool] | None, rest: bool) -> Event:
    if not fence.active_at(fix.ts):
        return Event.INACTIVE
    if fix.coarse:
        return Event.COARSE
    if verdict is None:  # the index did not even return the pair: more than accuracy + margin away
        return Event.CLEAR_OUT
    inside, clear_out, contained = verdict
    if contained:
        return Event.HELD if rest else Event.CONTAINED
    if inside:
        return Event.INSIDE
    return Event.CLEAR_OUT if clear_out else Event.BAND


def _signal(
    device_id: DeviceId,
    index: FenceIndex,
    row: int,
    step: Step,
    at: datetime,
    rules: Rules,
) -> FenceSignal:
    fence = index.fences[row]
    thresholds = Thresholds(
        fence.radius_m,
        index.margin_m,
        rules.exit_fixes,
        rules.exit_after_s,
        fence.dwell_s,
        rules.enter_depth_m,
        rules.enter_after_s,
    )
    common = (device_id, fence.fence_id, fence.kind, fence.subtype, at, step.evidence, thresholds)
    if step.outcome is Outcome.ENTERED:  # dated by the fix that proved presence, the last of its evidence
        return Entered(*common)
    if step.outcome is Outcome.DWELLED:
        inside_s = (step.evidence[-1].ts - step.evidence[0].ts).total_seconds()
        return Dwelled(*common, inside_s=inside_s)
    reason = ExitReason.FIXES if step.outcome is Outcome.EXITED_FIXES else ExitReason.TIME
    # The car left when it was first seen clearly outside; the fixes after it only confirm that.
    # Dating the exit by its confirmation would make it depend on the next report's cadence (a
    # car back from a long silence reports again minutes or an hour later).
    left = step.evidence[0].ts if step.evidence else at
    return Exited(device_id, fence.fence_id, fence.kind, fence.subtype, left, step.evidence, thresholds, reason=reason)
