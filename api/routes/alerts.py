"""The alert work queue: list (filtered, scoped, by priority, cursor-paged), one alert with its
evidence and history, and the people's transitions (acknowledge, assign, resolve, dismiss)."""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from alerts.lifecycle import AlertEvent, IllegalTransition, transition
from api import cursor, views
from api.assignees import check_alert_assignee
from api.auth import Family, Principal
from api.deps import TEXT, Conn, Credentials, admitted, limit_location_reads, require, session
from api.errors import AUTHENTICATED, BODY, Conflict, NotFound, Unprocessable, problems
from api.holds import is_adverse, refuse_if_held
from api.models.alerts import Alert, AlertDetail, AlertPage
from api.policy import NO_LOAN, location_access
from domain.vocabulary import AlertKind, AlertStatus, Bucket, Disposition, Severity
from storage import alert_queries, audit, loans, tracks, webhooks
from storage import alerts as alert_store
from storage.alert_queries import AlertFilter, AlertRow
from storage.database import Connection

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"], responses=problems(*AUTHENTICATED))

Held = Literal["exclude", "include", "only"]
AlertIdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
LIVE = [AlertStatus.OPEN.value, AlertStatus.ACKNOWLEDGED.value, AlertStatus.ASSIGNED.value]


# The fields each event takes besides a note: an assignee set inside an acknowledge would assign
# the alert past the alerts.assign check.
EVENT_FIELDS = {"acknowledge": frozenset(), "assign": frozenset({"assignee"})} | dict.fromkeys(
    ("resolve", "dismiss"), frozenset({"disposition"})
)


class TransitionIn(BaseModel):
    event: Literal["acknowledge", "assign", "resolve", "dismiss"]
    assignee: str | None = Field(None, min_length=1, max_length=200, pattern=TEXT)
    disposition: Disposition | None = None
    note: str | None = Field(None, max_length=2000, pattern=TEXT)


def alert_filter(
    who: Principal,
    status: list[AlertStatus] | None,
    kind: list[AlertKind] | None,
    severity: list[Severity] | None,
    bucket: list[Bucket] | None,
    assignee: str | None,
    loan_id: str | None,
    opened_from: datetime | None,
    opened_to: datetime | None,
    held: Held,
) -> AlertFilter:
    """The storage filter for these query parameters, scoped to the caller."""
    return AlertFilter(
        statuses=[s.value for s in status] if status else LIVE,
        kinds=[k.value for k in kind] if kind else None,
        severities=list(severity) if severity else None,
        buckets=[b.value for b in bucket] if bucket else None,
        assignee=assignee,
        loan_id=loan_id,
        opened_from=opened_from,
        opened_to=opened_to,
        collector=who.scope_collector,
        held=held,
    )


@router.get("", summary="The alert queue, highest priority first", response_model=AlertPage)
def list_alerts(
    request: Request,
    credentials: Credentials,
    status: Annotated[list[AlertStatus] | None, Query(description="Default: the live statuses")] = None,
    kind: Annotated[list[AlertKind] | None, Query()] = None,
    severity: Annotated[list[Severity] | None, Query()] = None,
    bucket: Annotated[list[Bucket] | None, Query()] = None,
    assignee: Annotated[str | None, Query(max_length=200, pattern=TEXT)] = None,
    loan_id: Annotated[str | None, Query(max_length=200, pattern=TEXT)] = None,
    opened_from: datetime | None = None,
    opened_to: datetime | None = None,
    held: Annotated[Held, Query(description="Alerts of loans under a legal hold")] = "exclude",
    cursor_: Annotated[str | None, Query(alias="cursor", max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> views.JSONBody:
    """Alerts in the caller's scope; legal-hold alerts only with held=include|only."""
    with session(request, credentials, Family.ALERTS_READ) as s:
        where = alert_filter(s.who, status, kind, severity, bucket, assignee, loan_id, opened_from, opened_to, held)
        after = cursor.decode(cursor_, (float, int)) if cursor_ else None
        rows = alert_queries.list_alerts(s.conn, where, after=(after[0], after[1]) if after else None, limit=limit)
    following = cursor.encode(rows[-1].priority, rows[-1].alert_id) if len(rows) == limit else None
    return views.JSONBody({"items": [views.alert(r) for r in rows], "next_cursor": following})


def _visible(
    conn: Connection, who: Principal, alert_id: int, *, for_update: bool = False
) -> tuple[AlertRow, dict[str, Any]]:
    found = alert_queries.get_alert(conn, alert_id, for_update=for_update)
    if found is None or not who.sees_loan(found[0].assigned_collector):
        raise NotFound(f"alert {alert_id} does not exist or is not in your scope")
    return found


@router.get(
    "/{alert_id}",
    summary="One alert with its evidence and history",
    response_model=AlertDetail,
    responses=problems(404),
)
def get_alert(
    request: Request,
    credentials: Credentials,
    alert_id: AlertIdPath,
    purpose: Annotated[
        str, Query(min_length=3, max_length=500, pattern=TEXT, description="Why the evidence is read (audited)")
    ],
) -> views.JSONBody:
    """The alert, its evidence (coordinates rounded unless precise access applies) and history."""
    with session(request, credentials, Family.ALERTS_READ) as s:
        limit_location_reads(request, s.who)  # the evidence holds the fixes
        return _alert_body(s.conn, s.who, alert_id, purpose)


def _alert_body(conn: Connection, who: Principal, alert_id: int, purpose: str) -> views.JSONBody:
    try:
        row, evidence = _visible(conn, who, alert_id)
    except NotFound:
        audit.record_out_of_scope(
            conn,
            actor=who.name,
            read="alert_evidence_read",
            subject_type="alert",
            subject_id=str(alert_id),
            purpose=purpose,
        )
        raise
    loan = tracks.loans_access(conn, [row.loan_id]).get(row.loan_id) if row.loan_id else None
    access = location_access(loan) if loan else NO_LOAN
    precise = access.precise
    audit.record(
        conn,
        actor=who.name,
        action="alert_evidence_read",
        subject_type="alert",
        subject_id=str(alert_id),
        purpose=purpose,
        detail={"loan_id": row.loan_id, "precise": precise},
    )
    body = views.alert(row)
    body["evidence"] = access.shown(evidence)
    body["precise_location"] = precise
    body["history"] = access.shown(alert_queries.history(conn, alert_id))
    return views.JSONBody(body, headers=views.NO_STORE)


@router.post(
    "/{alert_id}/transitions",
    summary="Acknowledge, assign, resolve or dismiss an alert",
    response_model=Alert,
    responses=problems(404, 409, *BODY),
)
def transition_alert(
    conn: Conn,
    who: Annotated[Principal, Depends(require(Family.ALERTS_WORK))],
    alert_id: AlertIdPath,
    body: TransitionIn,
) -> dict[str, Any]:
    """Apply one lifecycle event; 409 when the alert's state does not allow it."""
    event = AlertEvent(body.event)
    for field in ("assignee", "disposition"):
        if getattr(body, field) is not None and field not in EVENT_FIELDS[event.value]:
            raise Unprocessable(f"{field}: the {event.value} event takes no {field}", field=field)
    if event == AlertEvent.ASSIGN:
        admitted(who, Family.ALERTS_ASSIGN)
    with conn.transaction():
        row, _ = _visible(conn, who, alert_id, for_update=True)
        if row.loan_id is not None and is_adverse(event.value, body.disposition):
            refuse_if_held(loans.hold_in_force(conn, row.loan_id), f"{event.value} ({body.disposition or 'recovery'})")
        if event == AlertEvent.ASSIGN and body.assignee is not None:
            check_alert_assignee(conn, body.assignee, row.assigned_collector)
        try:
            change = transition(
                AlertStatus(row.status),
                event,
                actor=who.name,
                disposition=body.disposition,
                assignee=body.assignee,
                note=body.note,
            )
        except IllegalTransition as exc:
            raise Conflict(str(exc), state=row.status, event=event.value) from exc
        alert_store.apply_change(conn, alert_id, change, datetime.now(UTC))
        webhooks.enqueue_alert_event(conn, alert_id, f"alert.{event.value}")
    updated, _ = _visible(conn, who, alert_id)
    return views.alert(updated)
