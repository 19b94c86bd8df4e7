"""The quarantine: what the ingestor refused, and replaying it once the cause is fixed."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from api.auth import Family, Principal
from api.deps import Conn, require
from api.errors import AUTHENTICATED, BODY, problems
from api.models.operations import QuarantinePage, ReplayReport
from domain.vocabulary import RejectReason
from storage import quarantine

router = APIRouter(prefix="/api/v1/quarantine", tags=["quarantine"], responses=problems(*AUTHENTICATED))


class ReplayIn(BaseModel):
    reason: RejectReason | None = Field(None, description="Replay only entries refused for this reason")


@router.get("", summary="Pending quarantined messages, oldest first", response_model=QuarantinePage)
def list_quarantine(
    conn: Conn,
    who: Annotated[Principal, Depends(require(Family.QUARANTINE))],
    reason: RejectReason | None = None,
    after_id: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Entries not yet replayed, with their payload as text, and counts per reason."""
    entries = quarantine.pending(conn, reason=reason.value if reason else None, limit=limit, after_id=after_id)
    items = [
        {
            "quarantine_id": e.quarantine_id,
            "received_at": e.received_at,
            "topic": e.topic,
            "reason": e.reason,
            "detail": e.detail,
            "device_id": e.device_id,
            "payload": e.payload.decode("utf-8", errors="replace"),
        }
        for e in entries
    ]
    counts = [{"reason": r, "pending": p, "replayed": d} for r, p, d in quarantine.counts(conn)]
    return {"items": items, "next_after_id": entries[-1].quarantine_id if entries else None, "counts": counts}


@router.post(
    "/replay", summary="Replay pending entries that now pass", response_model=ReplayReport, responses=problems(*BODY)
)
def replay_quarantine(
    request: Request, conn: Conn, who: Annotated[Principal, Depends(require(Family.QUARANTINE))], body: ReplayIn
) -> dict[str, Any]:
    """Re-decode pending entries under the configured limits; those that pass are stored and marked replayed."""
    report = request.app.state.quarantine_replay(conn, body.reason.value if body.reason else None)
    return {
        "replayed": report.replayed,
        "positions_stored": report.positions_stored,
        "still_refused": dict(report.still_refused),
    }
