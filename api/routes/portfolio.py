"""Portfolio figures for supervisors and the audit log for admins."""

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from api import cursor
from api.auth import Family, Principal
from api.deps import TEXT, Conn, require
from api.errors import AUTHENTICATED, problems
from api.models.operations import AuditPage, PortfolioStats
from storage import audit, portfolio

router = APIRouter(prefix="/api/v1", tags=["portfolio"], responses=problems(*AUTHENTICATED))


@router.get(
    "/portfolio/stats",
    summary="Open alerts by kind × bucket, offline devices, cars in risk zones",
    response_model=PortfolioStats,
)
def stats(conn: Conn, who: Annotated[Principal, Depends(require(Family.PORTFOLIO))]) -> dict[str, Any]:
    """The portfolio at a glance."""
    return asdict(portfolio.stats(conn))


@router.get("/audit", summary="The audit log, newest first", tags=["audit"], response_model=AuditPage)
def audit_log(
    conn: Conn,
    who: Annotated[Principal, Depends(require(Family.AUDIT))],
    actor: Annotated[str | None, Query(max_length=200, pattern=TEXT)] = None,
    action: Annotated[str | None, Query(max_length=100, pattern=TEXT)] = None,
    subject_id: Annotated[str | None, Query(max_length=200, pattern=TEXT)] = None,
    since: datetime | None = None,
    cursor_: Annotated[str | None, Query(alias="cursor", max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Who read which location, exported what, sent which command, and why."""
    before = cursor.decode(cursor_, (int,))[0] if cursor_ else None
    rows = audit.entries(
        conn, actor=actor, action=action, subject_id=subject_id, since=since, before_id=before, limit=limit
    )
    following = cursor.encode(rows[-1].audit_id) if len(rows) == limit else None
    return {"items": [asdict(r) for r in rows], "next_cursor": following}
