"""Reading alerts for the API: the filtered, scoped work queue, one alert, its history, changes."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.vocabulary import BUCKET_LIMITS, LIVE_ALERT_STATUSES, Bucket
from storage.database import Connection

# The live statuses as an SQL list (migrations 0002 and 0006 spell them out in partial indexes).
LIVE_SQL = "(" + ", ".join(f"'{s.value}'" for s in LIVE_ALERT_STATUSES) + ")"

# The loan's delinquency bucket, as domain.vocabulary.Bucket.of computes it, from the same limits.
BUCKET_SQL = (
    "CASE "
    + " ".join(f"WHEN l.days_past_due <= {most} THEN '{bucket.value}'" for bucket, most in BUCKET_LIMITS)
    + f" ELSE '{Bucket.M3_PLUS.value}' END"
)

# Why an alert is out of the actionable queue: the engine's hold_reason, else a legal hold in
# force on the loan now (placed since the engine last saw the alert), else a repossessed car
# (information only). Worded as alerts.rules words it.
_HOLD_SQL = """
    coalesce(a.hold_reason,
             h.reason,
             CASE WHEN l.status = 'repossessed' THEN 'repossessed: information only' END)
"""

_COLUMNS = f"""
    a.alert_id, a.kind, a.severity, a.loan_id, a.vin, a.subject, a.status, a.disposition,
    a.assignee, a.priority, {_HOLD_SQL} AS hold_reason, a.opened_at, a.last_seen_at, a.closed_at,
    a.close_reason, a.updated_at, l.days_past_due, {BUCKET_SQL} AS bucket, l.assigned_collector
"""

_FROM = """
      FROM alerts a
      LEFT JOIN loans l ON l.loan_id = a.loan_id
      LEFT JOIN LATERAL (
            SELECT 'legal hold: ' || kind || coalesce(' until ' || until::text, '') AS reason
              FROM loan_holds
             WHERE loan_holds.loan_id = a.loan_id
               AND released_at IS NULL
               AND (until IS NULL OR until >= current_date)
             ORDER BY hold_id
             LIMIT 1) h ON true
"""

# A legal hold in force on the alert's loan now (the same test as the lateral `h` above), written
# as its own predicate so the planner estimates it from loan_holds instead of guessing at the
# coalesce: with the guess it sorted every live alert instead of walking the priority index.
_HELD_SQL = """
    (a.hold_reason IS NOT NULL
     OR l.status IS NOT DISTINCT FROM 'repossessed'  -- false, not null, for an alert without a loan
     OR EXISTS (SELECT 1 FROM loan_holds
                 WHERE loan_holds.loan_id = a.loan_id
                   AND released_at IS NULL
                   AND (until IS NULL OR until >= current_date)))
"""


@dataclass(frozen=True, slots=True)
class AlertRow:
    alert_id: int
    kind: str
    severity: str
    loan_id: str | None
    vin: str | None
    subject: str
    status: str
    disposition: str | None
    assignee: str | None
    priority: float
    hold_reason: str | None
    opened_at: datetime
    last_seen_at: datetime
    closed_at: datetime | None
    close_reason: str | None
    updated_at: datetime
    days_past_due: int | None
    bucket: str | None
    assigned_collector: str | None


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """Which alerts to list; `collector` scopes to the loans assigned to that collector."""

    statuses: list[str] | None = None
    kinds: list[str] | None = None
    severities: list[str] | None = None
    buckets: list[str] | None = None
    assignee: str | None = None
    loan_id: str | None = None
    opened_from: datetime | None = None
    opened_to: datetime | None = None
    collector: str | None = None
    held: str = "exclude"  # exclude | include | only

    def where(self) -> tuple[str, dict[str, Any]]:
        """The WHERE clause and its parameters. Only the filters in use are written, so each
        query is planned for what it asks (a `%(x)s IS NULL OR ...` for every unused filter
        hides the selective ones from the planner)."""
        tests = ["true"]
        params: dict[str, Any] = {}

        def test(sql: str, name: str, value: Any) -> None:
            if value is not None:
                tests.append(sql)
                params[name] = value

        def one_of(column: str, name: str, values: list[str] | None) -> None:
            # One value is written as `=`: an index on (column, priority) then yields rows in
            # priority order, which `= ANY` does not on PostgreSQL 15.
            if values is not None and len(values) == 1:
                test(f"{column} = %({name})s", name, values[0])
            else:
                test(f"{column} = ANY(%({name})s)", name, values)

        test("a.status = ANY(%(statuses)s)", "statuses", self.statuses)
        one_of("a.kind", "kinds", self.kinds)
        one_of("a.severity", "severities", self.severities)
        test(f"({BUCKET_SQL}) = ANY(%(buckets)s)", "buckets", self.buckets)
        test("a.assignee = %(assignee)s", "assignee", self.assignee)
        test("a.loan_id = %(loan_id)s", "loan_id", self.loan_id)
        test("a.opened_at >= %(opened_from)s", "opened_from", self.opened_from)
        test("a.opened_at < %(opened_to)s", "opened_to", self.opened_to)
        test("l.assigned_collector = %(collector)s", "collector", self.collector)
        if self.held == "exclude":
            tests.append(f"NOT {_HELD_SQL}")
        elif self.held == "only":
            tests.append(_HELD_SQL)
        return "WHERE " + "\n   AND ".join(tests), params


def list_alerts(conn: Connection, where: AlertFilter, *, after: tuple[float, int] | None, limit: int) -> list[AlertRow]:
    """One page of the queue, by priority then id, both descending; `after` is the last row seen."""
    clause, params = where.where()
    if after is not None:
        clause += "\n   AND (a.priority, a.alert_id) < (%(after_priority)s::float8, %(after_id)s::bigint)"
        params |= {"after_priority": after[0], "after_id": after[1]}
    rows = conn.execute(
        f"""
        SELECT {_COLUMNS}
        {_FROM}
        {clause}
         ORDER BY a.priority DESC, a.alert_id DESC
         LIMIT %(limit)s
        """,
        params | {"limit": limit},
    ).fetchall()
    return [AlertRow(*row) for row in rows]


def changed_since(conn: Connection, where: AlertFilter, *, since: datetime, limit: int = 500) -> list[AlertRow]:
    """Alerts in scope whose row changed at or after `since`, oldest change first (live stream)."""
    clause, params = where.where()
    rows = conn.execute(
        f"""
        SELECT {_COLUMNS}
        {_FROM}
        {clause}
           AND a.updated_at >= %(since)s
         ORDER BY a.updated_at, a.alert_id
         LIMIT %(limit)s
        """,
        params | {"since": since, "limit": limit},
    ).fetchall()
    return [AlertRow(*row) for row in rows]


def get_alert(conn: Connection, alert_id: int, *, for_update: bool = False) -> tuple[AlertRow, dict[str, Any]] | None:
    """One alert and its evidence; with for_update the row is locked for a transition."""
    lock = "FOR UPDATE OF a" if for_update else ""
    row = conn.execute(
        f"""
        SELECT {_COLUMNS}, a.evidence
        {_FROM}
         WHERE a.alert_id = %s
        {lock}
        """,
        (alert_id,),
    ).fetchone()
    if row is None:
        return None
    return AlertRow(*row[:-1]), dict(row[-1] or {})


def history(conn: Connection, alert_id: int) -> list[dict[str, Any]]:
    """The alert's history, oldest first."""
    rows = conn.execute(
        """
        SELECT history_id, at, actor, event, from_status, to_status, note, data
          FROM alert_history
         WHERE alert_id = %s
         ORDER BY history_id
        """,
        (alert_id,),
    ).fetchall()
    keys = ("history_id", "at", "actor", "event", "from_status", "to_status", "note", "data")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def database_now(conn: Connection) -> datetime:
    """The database clock (the live stream compares updated_at against it, not the API host's)."""
    row = conn.execute("SELECT now()").fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


def opened_alerts(conn: Connection, *, loan_prefix: str | None) -> list[tuple[str, str, datetime]]:
    """(kind, loan id, opened at) of every alert, or only of loans whose id starts `{loan_prefix}-`
    (one simulated fleet's, scored against its labels)."""
    rows = conn.execute(
        """
        SELECT kind, loan_id, opened_at
          FROM alerts
         WHERE %(prefix)s::text IS NULL OR loan_id LIKE %(prefix)s || '-%%'
        """,
        {"prefix": loan_prefix},
    ).fetchall()
    return [(kind, loan_id, opened_at) for kind, loan_id, opened_at in rows]
