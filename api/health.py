"""Liveness, readiness (database and broker reachable) and Prometheus metrics."""

import hmac
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from api.errors import problem, problems
from api.models.operations import Health, Readiness
from storage import health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "The database or the broker is unreachable"}},
)
async def readyz(request: Request) -> JSONResponse:
    """The database and the broker are reachable."""
    checks = {
        "database": await run_in_threadpool(health.reachable, request.app.state.pool),
        "broker": await request.app.state.broker_ready(),
    }
    ready = all(checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


# Scrapes from the machine itself need no token; from elsewhere, LIENWATCH_METRICS_TOKEN. The
# figures are no location, but request counts by status tell an outsider how the API is used.
_FORBIDDEN: dict[int | str, dict[str, Any]] = {
    403: problems(403)[403] | {"description": "Not from loopback and without the metrics token"}
}
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


@router.get(
    "/metrics",
    response_class=Response,
    responses=_FORBIDDEN
    | {200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}, "description": "Prometheus text"}},
)
async def metrics(request: Request) -> Response:
    """Prometheus exposition: from loopback, or with the metrics bearer token."""
    host = request.client.host if request.client else ""
    given = request.headers.get("authorization", "")
    if host not in _LOOPBACK and not _token_ok(given, request.app.state.metrics_token):
        return problem(
            403, "Forbidden", "metrics are served on loopback, or with the metrics token", "forbidden", request.url.path
        )
    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)


def _token_ok(header: str, token: str | None) -> bool:
    scheme, _, given = header.partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), (token or "").encode())
