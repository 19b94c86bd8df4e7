"""The append-only audit log: every location read, export and command, with who and why."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from storage.database import Connection


@dataclass(frozen=True, slots=True)
class AuditEntry:
    audit_id: int
    at: datetime
    actor: str
    action: str
    subject_type: str
    subject_id: str
    purpose: str | None
    detail: dict[str, Any] | None


def record(
    conn: Connection,
    *,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    purpose: str | None,
    detail: dict[str, Any] | None = None,
) -> int:
    """Append one audit row; returns its id."""
    row = conn.execute(
        """
        INSERT INTO audit_log (actor, action, subject_type, subject_id, purpose, detail)
        VALUES (%s, %s, %s, %s, %s, %s)
        RETURNING audit_id
        """,
        (actor, action, subject_type, subject_id, purpose, Jsonb(detail) if detail is not None else None),
    ).fetchone()
    assert row is not None
    return int(row[0])


def record_out_of_scope(
    conn: Connection, *, actor: str, read: str, subject_type: str, subject_id: str, purpose: str | None
) -> int:
    """Append the attempt to read something that does not exist or is outside the caller's scope
    (answered 404): probing other collectors' cars is what the audit log is for."""
    return record(
        conn,
        actor=actor,
        action="out_of_scope_read",
        subject_type=subject_type,
        subject_id=subject_id,
        purpose=purpose,
        detail={"read": read},
    )


def entries(
    conn: Connection,
    *,
    actor: str | None = None,
    action: str | None = None,
    subject_id: str | None = None,
    since: datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Audit rows, newest first, filtered; keyset-paged by before_id."""
    rows = conn.execute(
        """
        SELECT audit_id, at, actor, action, subject_type, subject_id, purpose, detail
          FROM audit_log
         WHERE (%(actor)s::text IS NULL OR actor = %(actor)s)
           AND (%(action)s::text IS NULL OR action = %(action)s)
           AND (%(subject)s::text IS NULL OR subject_id = %(subject)s)
           AND (%(since)s::timestamptz IS NULL OR at >= %(since)s)
           AND (%(before)s::bigint IS NULL OR audit_id < %(before)s)
         ORDER BY audit_id DESC
         LIMIT %(limit)s
        """,
        {
            "actor": actor,
            "action": action,
            "subject": subject_id,
            "since": since,
            "before": before_id,
            "limit": limit,
        },
    ).fetchall()
    return [AuditEntry(*row) for row in rows]
