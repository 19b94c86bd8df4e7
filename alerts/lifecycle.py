"""The alert lifecycle as a transition table.

Theory of operation. An alert is opened by the alert engine and then worked by people:
acknowledged, assigned to a collector, and finally resolved or dismissed with a disposition.
The engine may also clear it on its own when the condition ends (device back online, car
back home), which resolves it with the reason recorded. A repeat of the same condition is an
`observe` event: it keeps the state and refreshes last-seen and evidence. Resolved and
dismissed are terminal; a new occurrence opens a new alert. Every transition returns the
history entry to persist; nothing here touches the database.
"""

from dataclasses import dataclass
from enum import StrEnum

from domain.vocabulary import LIVE_ALERT_STATUSES, AlertStatus, Disposition


class AlertEvent(StrEnum):
    OBSERVE = "observe"  # the condition was seen again
    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"
    RESOLVE = "resolve"
    DISMISS = "dismiss"
    CLEAR = "clear"  # the engine saw the condition end


_LIVE = LIVE_ALERT_STATUSES

# (state, event) -> next state. Anything absent is illegal.
TRANSITIONS: dict[tuple[AlertStatus, AlertEvent], AlertStatus] = {
    **{(s, AlertEvent.OBSERVE): s for s in _LIVE},
    (AlertStatus.OPEN, AlertEvent.ACKNOWLEDGE): AlertStatus.ACKNOWLEDGED,
    **{(s, AlertEvent.ASSIGN): AlertStatus.ASSIGNED for s in _LIVE},
    **{(s, AlertEvent.RESOLVE): AlertStatus.RESOLVED for s in _LIVE},
    **{(s, AlertEvent.DISMISS): AlertStatus.DISMISSED for s in _LIVE},
    **{(s, AlertEvent.CLEAR): AlertStatus.RESOLVED for s in _LIVE},
}

LIVE_STATUSES = frozenset(_LIVE)


class IllegalTransition(ValueError):
    """An event that the alert's current state does not allow."""

    def __init__(self, state: AlertStatus, event: AlertEvent, why: str = "") -> None:
        self.state = state
        self.event = event
        super().__init__(f"alert in state {state.value!r} cannot take event {event.value!r}{': ' + why if why else ''}")


@dataclass(frozen=True, slots=True)
class Change:
    """What a transition did; the shell persists it as the alert's new state and a history row."""

    from_status: AlertStatus
    to_status: AlertStatus
    event: AlertEvent
    actor: str
    disposition: Disposition | None = None
    assignee: str | None = None
    note: str | None = None


def transition(
    state: AlertStatus,
    event: AlertEvent,
    *,
    actor: str,
    disposition: Disposition | None = None,
    assignee: str | None = None,
    note: str | None = None,
) -> Change:
    """Apply one event; raises IllegalTransition naming the state and event."""
    target = TRANSITIONS.get((state, event))
    if target is None:
        raise IllegalTransition(state, event)
    if event in (AlertEvent.RESOLVE, AlertEvent.DISMISS) and disposition is None:
        raise IllegalTransition(state, event, "a disposition is required")
    if event == AlertEvent.ASSIGN and not assignee:
        raise IllegalTransition(state, event, "an assignee is required")
    if event == AlertEvent.CLEAR and not note:
        raise IllegalTransition(state, event, "the reason the condition ended is required")
    if event == AlertEvent.CLEAR:
        disposition = Disposition.OTHER
    if event != AlertEvent.ASSIGN:
        assignee = None  # only an assignment changes who works the alert
    return Change(state, target, event, actor, disposition, assignee, note)
