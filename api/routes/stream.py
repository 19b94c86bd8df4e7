"""Server-Sent Events of new and changed alerts, scoped by the same rules as the queue.

The stream polls the alerts table by updated_at (every `stream_poll_s`, default 1 s) rather than
using LISTEN/NOTIFY, so the alert engine needs no change. Each poll looks back a few seconds
past the last change seen, because updated_at is a transaction's start time and a long
transaction may commit a change stamped earlier; (alert_id, updated_at) pairs already sent are
skipped.
"""

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from psycopg_pool import ConnectionPool
from starlette.concurrency import run_in_threadpool

from api import views
from api.auth import Family, Principal
from api.deps import pool, require
from api.errors import AUTHENTICATED, problems
from api.routes.alerts import Held, alert_filter
from domain.vocabulary import AlertKind, AlertStatus, Bucket, Severity
from storage import alert_queries
from storage.alert_queries import AlertFilter, AlertRow
from storage.database import Connection

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"], responses=problems(*AUTHENTICATED))

_LOOKBACK = timedelta(seconds=5)


def _poll(
    db: ConnectionPool[Connection], where: AlertFilter, since: datetime | None
) -> tuple[list[AlertRow], datetime]:
    with db.connection(timeout=5) as conn:
        now = alert_queries.database_now(conn)
        if since is None:
            return [], now
        return alert_queries.changed_since(conn, where, since=since - _LOOKBACK), now


async def _events(
    request: Request, db: ConnectionPool[Connection], where: AlertFilter, *, limit: int | None, timeout_s: float
) -> AsyncIterator[str]:
    poll_s: float = request.app.state.stream_poll_s
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    _, since = await run_in_threadpool(_poll, db, where, None)
    sent: dict[int, datetime] = {}
    count = 0
    yield ": lienwatch alert stream\n\n"
    while loop.time() < deadline and not await request.is_disconnected():
        rows, now = await run_in_threadpool(_poll, db, where, since)
        since = now
        for row in rows:
            if sent.get(row.alert_id) == row.updated_at:
                continue
            sent[row.alert_id] = row.updated_at
            data = views.json_bytes(views.alert(row)).decode()
            yield f"event: alert\nid: {row.alert_id}:{row.updated_at.isoformat()}\ndata: {data}\n\n"
            count += 1
            if limit is not None and count >= limit:
                return
        await asyncio.sleep(min(poll_s, max(0.0, deadline - loop.time())))


@router.get(
    "/stream",
    summary="Live stream (Server-Sent Events) of new and changed alerts",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream(
    request: Request,
    who: Annotated[Principal, Depends(require(Family.ALERTS_READ))],
    status: Annotated[list[AlertStatus] | None, Query()] = None,
    kind: Annotated[list[AlertKind] | None, Query()] = None,
    severity: Annotated[list[Severity] | None, Query()] = None,
    bucket: Annotated[list[Bucket] | None, Query()] = None,
    held: Held = "exclude",
    limit: Annotated[int | None, Query(ge=1, le=10000, description="Close after this many events")] = None,
    timeout_s: Annotated[float, Query(gt=0, le=3600, description="Close after this long")] = 300,
) -> StreamingResponse:
    """Alerts in the caller's scope as they open or change, as `event: alert` messages."""
    statuses = status or list(AlertStatus)
    where = alert_filter(who, statuses, kind, severity, bucket, None, None, None, None, held)
    return StreamingResponse(
        _events(request, pool(request), where, limit=limit, timeout_s=timeout_s),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache"},
    )
