"""The alert lifecycle table: every legal transition, every illegal one raising IllegalTransition naming the
state and the event, and the payload each event requires (disposition, assignee, reason)."""

import itertools
from typing import Any

import pytest

from alerts.lifecycle import LIVE_STATUSES, TRANSITIONS, AlertEvent, Change, IllegalTransition, transition
from domain.vocabulary import AlertStatus, Disposition

OPEN, ACKED, ASSIGNED = AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.ASSIGNED
RESOLVED, DISMISSED = AlertStatus.RESOLVED, AlertStatus.DISMISSED
E = AlertEvent

# Written out by hand from DESIGN.md (open -> acknowledged -> assigned -> resolved | dismissed; the engine
# clears a live alert when the condition ends; repeats are observed), not derived from the module's table.
EXPECTED: dict[tuple[AlertStatus, AlertEvent], AlertStatus] = {
    (OPEN, E.OBSERVE): OPEN,
    (ACKED, E.OBSERVE): ACKED,
    (ASSIGNED, E.OBSERVE): ASSIGNED,
    (OPEN, E.ACKNOWLEDGE): ACKED,
    (OPEN, E.ASSIGN): ASSIGNED,
    (ACKED, E.ASSIGN): ASSIGNED,
    (ASSIGNED, E.ASSIGN): ASSIGNED,  # reassignment
    (OPEN, E.RESOLVE): RESOLVED,
    (ACKED, E.RESOLVE): RESOLVED,
    (ASSIGNED, E.RESOLVE): RESOLVED,
    (OPEN, E.DISMISS): DISMISSED,
    (ACKED, E.DISMISS): DISMISSED,
    (ASSIGNED, E.DISMISS): DISMISSED,
    (OPEN, E.CLEAR): RESOLVED,
    (ACKED, E.CLEAR): RESOLVED,
    (ASSIGNED, E.CLEAR): RESOLVED,
}
ILLEGAL = [pair for pair in itertools.product(AlertStatus, AlertEvent) if pair not in EXPECTED]

# Everything each event needs, so only the table decides.
PAYLOAD: dict[AlertEvent, dict[str, Any]] = {
    E.OBSERVE: {},
    E.ACKNOWLEDGE: {},
    E.ASSIGN: {"assignee": "collector-7"},
    E.RESOLVE: {"disposition": Disposition.CONFIRMED},
    E.DISMISS: {"disposition": Disposition.FALSE_POSITIVE},
    E.CLEAR: {"note": "device back online"},
}


def test_the_table_is_exactly_the_designed_one() -> None:
    assert TRANSITIONS == EXPECTED
    assert len(ILLEGAL) == 14


def test_live_statuses_are_the_non_terminal_ones() -> None:
    assert set(LIVE_STATUSES) == {OPEN, ACKED, ASSIGNED}


@pytest.mark.parametrize(("state", "event"), list(EXPECTED), ids=lambda v: str(v))
def test_every_legal_transition(state: AlertStatus, event: AlertEvent) -> None:
    change = transition(state, event, actor="officer-1", **PAYLOAD[event])
    assert isinstance(change, Change)
    assert (change.from_status, change.to_status, change.event, change.actor) == (
        state,
        EXPECTED[(state, event)],
        event,
        "officer-1",
    )


@pytest.mark.parametrize(("state", "event"), ILLEGAL, ids=lambda v: str(v))
def test_every_illegal_transition_raises_naming_state_and_event(state: AlertStatus, event: AlertEvent) -> None:
    with pytest.raises(IllegalTransition) as caught:
        transition(state, event, actor="officer-1", **PAYLOAD[event])
    assert (caught.value.state, caught.value.event) == (state, event)
    message = str(caught.value)
    assert f"'{state.value}'" in message
    assert f"'{event.value}'" in message


def test_terminal_states_take_no_event_at_all() -> None:
    for state, event in itertools.product((RESOLVED, DISMISSED), AlertEvent):
        with pytest.raises(IllegalTransition):
            transition(state, event, actor="engine", **PAYLOAD[event])


def test_an_illegal_transition_is_a_value_error() -> None:
    assert issubclass(IllegalTransition, ValueError)


# payloads


@pytest.mark.parametrize("state", sorted(LIVE_STATUSES))
@pytest.mark.parametrize("event", [E.RESOLVE, E.DISMISS])
def test_resolve_and_dismiss_without_a_disposition_raise(state: AlertStatus, event: AlertEvent) -> None:
    with pytest.raises(IllegalTransition, match="disposition is required") as caught:
        transition(state, event, actor="officer-1")
    assert (caught.value.state, caught.value.event) == (state, event)


@pytest.mark.parametrize("disposition", list(Disposition))
def test_every_disposition_resolves_and_is_recorded(disposition: Disposition) -> None:
    change = transition(ASSIGNED, E.RESOLVE, actor="collector-7", disposition=disposition, note="car found")
    assert (change.to_status, change.disposition, change.note) == (RESOLVED, disposition, "car found")


@pytest.mark.parametrize("state", sorted(LIVE_STATUSES))
@pytest.mark.parametrize("assignee", [None, ""])
def test_assign_without_an_assignee_raises(state: AlertStatus, assignee: str | None) -> None:
    with pytest.raises(IllegalTransition, match="assignee is required"):
        transition(state, E.ASSIGN, actor="officer-1", assignee=assignee)


def test_assign_records_the_assignee() -> None:
    change = transition(ACKED, E.ASSIGN, actor="officer-1", assignee="collector-7")
    assert (change.to_status, change.assignee) == (ASSIGNED, "collector-7")


@pytest.mark.parametrize("state", sorted(LIVE_STATUSES))
@pytest.mark.parametrize("reason", [None, ""])
def test_clear_without_a_reason_raises(state: AlertStatus, reason: str | None) -> None:
    with pytest.raises(IllegalTransition, match="reason the condition ended is required"):
        transition(state, E.CLEAR, actor="engine", note=reason)


def test_clear_resolves_with_the_reason_recorded() -> None:
    change = transition(ASSIGNED, E.CLEAR, actor="engine", note="vehicle moved")
    assert change == Change(ASSIGNED, RESOLVED, E.CLEAR, "engine", Disposition.OTHER, None, "vehicle moved")


def test_the_table_is_checked_before_the_payload() -> None:
    # A resolved alert cannot be resolved again, even without a disposition: the error is the state.
    with pytest.raises(IllegalTransition) as caught:
        transition(RESOLVED, E.RESOLVE, actor="officer-1")
    assert "disposition" not in str(caught.value)


def test_only_an_assignment_changes_the_assignee() -> None:
    change = transition(AlertStatus.OPEN, AlertEvent.ACKNOWLEDGE, actor="ana", assignee="ana")
    assert change.assignee is None
    assert transition(AlertStatus.OPEN, AlertEvent.ASSIGN, actor="boss", assignee="ana").assignee == "ana"
