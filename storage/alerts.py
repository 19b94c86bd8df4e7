"""Alert rows and their history: open-or-update, transitions, clears, reads."""

from datetime import datetime
from typing import Any, Protocol

from psycopg.types.json import Jsonb

from domain.vocabulary import AlertStatus, Disposition
from storage.alert_queries import LIVE_SQL
from storage.database import Connection


class AlertDraft(Protocol):
    """An alert as the engine wants it to exist now (alerts.actions.AlertDraft)."""

    @property
    def kind(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def loan_id(self) -> str: ...
    @property
    def vin(self) -> str | None: ...
    @property
    def subject(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def priority(self) -> float: ...
    @property
    def hold_reason(self) -> str | None: ...
    @property
    def evidence(self) -> dict[str, Any]: ...


class Change(Protocol):
    """What a lifecycle transition did (alerts.lifecycle.Change)."""

    @property
    def from_status(self) -> AlertStatus: ...
    @property
    def to_status(self) -> AlertStatus: ...
    @property
    def event(self) -> str: ...
    @property
    def actor(self) -> str: ...
    @property
    def disposition(self) -> Disposition | None: ...
    @property
    def assignee(self) -> str | None: ...
    @property
    def note(self) -> str | None: ...

_LIVE = LIVE_SQL

_UPSERT = f"""
    INSERT INTO alerts (kind, severity, loan_id, vin, subject, priority, hold_reason,
                        opened_at, last_seen_at, evidence)
    VALUES (%(kind)s, %(severity)s, %(loan_id)s, %(vin)s, %(subject)s, %(priority)s, %(hold_reason)s,
            %(at)s, %(at)s, %(evidence)s)
    ON CONFLICT (loan_id, kind, subject) WHERE status IN {_LIVE}
    DO UPDATE SET
        last_seen_at = greatest(alerts.last_seen_at, EXCLUDED.last_seen_at),
        severity = EXCLUDED.severity,
        priority = EXCLUDED.priority,
        hold_reason = EXCLUDED.hold_reason,
        evidence = EXCLUDED.evidence
            || jsonb_build_object('occurrences', coalesce((alerts.evidence->>'occurrences')::int, 1) + 1),
        updated_at = now()
    RETURNING alert_id, (xmax = 0) AS inserted
"""

_HISTORY = """
    INSERT INTO alert_history (alert_id, at, actor, event, from_status, to_status, note, data)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
"""


def upsert(conn: Connection, draft: AlertDraft) -> tuple[int, bool]:
    """Open a new alert or refresh the live one for (loan, kind, subject); (alert_id, opened)."""
    row = conn.execute(
        _UPSERT,
        {
            "kind": draft.kind,
            "severity": draft.severity,
            "loan_id": draft.loan_id,
            "vin": draft.vin,
            "subject": draft.subject,
            "priority": draft.priority,
            "hold_reason": draft.hold_reason,
            "at": draft.at,
            "evidence": Jsonb(draft.evidence),
        },
    ).fetchone()
    assert row is not None
    alert_id, opened = int(row[0]), bool(row[1])
    if opened:
        conn.execute(
            _HISTORY, (alert_id, draft.at, "engine", "open", None, "open", draft.hold_reason, Jsonb(draft.evidence))
        )
    return alert_id, opened


def live_status(conn: Connection, loan_id: str, kind: str, subject: str) -> tuple[int, str] | None:
    """(alert_id, status) of the live alert for this key, if any."""
    row = conn.execute(
        f"SELECT alert_id, status FROM alerts WHERE loan_id = %s AND kind = %s AND subject = %s AND status IN {_LIVE}",
        (loan_id, kind, subject),
    ).fetchone()
    return (int(row[0]), str(row[1])) if row else None


def apply_change(conn: Connection, alert_id: int, change: Change, at: datetime) -> None:
    """Persist a lifecycle transition and its history row."""
    closing = change.to_status.value in ("resolved", "dismissed")
    conn.execute(
        """
        UPDATE alerts
        SET status = %(to)s,
            disposition = coalesce(%(disposition)s, disposition),
            assignee = coalesce(%(assignee)s, assignee),
            closed_at = CASE WHEN %(closing)s THEN %(at)s ELSE closed_at END,
            close_reason = CASE WHEN %(closing)s THEN %(note)s ELSE close_reason END,
            updated_at = now()
        WHERE alert_id = %(id)s
        """,
        {
            "to": change.to_status.value,
            "disposition": change.disposition.value if change.disposition else None,
            "assignee": change.assignee,
            "closing": closing,
            "at": at,
            "note": change.note,
            "id": alert_id,
        },
    )
    conn.execute(
        _HISTORY,
        (
            alert_id,
            at,
            change.actor,
            str(change.event),
            change.from_status.value,
            change.to_status.value,
            change.note,
            Jsonb(
                {"disposition": change.disposition.value if change.disposition else None, "assignee": change.assignee}
            ),
        ),
    )
