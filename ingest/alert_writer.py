"""Persisting the judge's alert actions: upsert drafts, clear live alerts through the lifecycle."""

import logging
from collections.abc import Sequence

from alerts.actions import Action, AlertDraft
from alerts.lifecycle import AlertEvent, transition
from domain.vocabulary import AlertStatus
from storage import alerts as alert_rows
from storage import webhooks
from storage.database import Connection

log = logging.getLogger(__name__)


def apply(conn: Connection, actions: Sequence[Action]) -> tuple[int, int, int]:
    """Run actions inside the caller's transaction; (opened, refreshed, cleared)."""
    opened = refreshed = cleared = 0
    for action in actions:
        if isinstance(action, AlertDraft):
            alert_id, is_new = alert_rows.upsert(conn, action)
            if is_new:
                opened += 1
                webhooks.enqueue_alert_event(conn, alert_id, "alert.opened")  # same transaction: no delivery lost
                log.info("alert %d opened: %s on loan %s", alert_id, action.kind, action.loan_id)
            else:
                refreshed += 1
            continue
        live = alert_rows.live_status(conn, action.loan_id, action.kind, action.subject)
        if live is None:
            continue
        alert_id, status = live
        change = transition(AlertStatus(status), AlertEvent.CLEAR, actor="engine", note=action.reason)
        alert_rows.apply_change(conn, alert_id, change, action.at)
        webhooks.enqueue_alert_event(conn, alert_id, "alert.cleared")
        cleared += 1
    return opened, refreshed, cleared
