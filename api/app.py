"""The FastAPI application: composition of the /api/v1 routers, health, errors and the lifespan
that owns the connection pool and the webhook delivery worker."""

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter
from psycopg_pool import ConnectionPool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import delivery, docs, errors, health, workbench
from api.bodylimit import BodyLimit
from api.ports import BrokerProbe, Downlink, QuarantineReplay
from api.ratelimit import RateLimiter
from api.routes import (
    alerts,
    commands,
    devices,
    fences,
    loans,
    loans_bulk,
    portfolio,
    quarantine,
    stream,
    vehicles,
    webhooks,
)
from api.targets import AllowList
from storage.database import Connection

# Bulk imports, whose bodies may be larger than other requests'.
BULK_PATHS = ("/api/v1/loans/bulk", "/api/v1/loans/bulk.csv", "/api/v1/fences/import")

# The stream router comes before alerts so /alerts/stream is not taken for an alert id.
ROUTERS = (
    stream.router,
    alerts.router,
    vehicles.router,
    loans_bulk.router,
    loans.router,
    devices.router,
    commands.router,
    fences.router,
    quarantine.router,
    portfolio.router,
    webhooks.router,
)


class _CountRequests:
    """Counts HTTP requests by method and status, as plain ASGI: Starlette's BaseHTTPMiddleware
    runs every request through a task group and memory streams, a measurable share of a queue read."""

    def __init__(self, app: ASGIApp, counter: Counter) -> None:
        self.app = app
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the client gets when the app fails before a response starts

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.counter.labels(scope["method"], str(status)).inc()


def create_app(
    *,
    database_url: str,
    quarantine_replay: QuarantineReplay,
    downlink: Downlink,
    broker_ready: BrokerProbe,
    webhook_interval_s: float | None = 1.0,
    webhook_backoff: delivery.Backoff = delivery.Backoff(),
    stream_poll_s: float = 1.0,
    pool_max_size: int = 10,
    freeze_heap: bool = False,
    max_body_bytes: int = 4 * 1024 * 1024,
    max_bulk_body_bytes: int = 10 * 1024 * 1024,
    webhook_allow: AllowList = AllowList(),
    location_reads_per_minute: int = 120,
    auth_failures_per_minute: int = 10,
    metrics_token: str | None = None,
    map_tiles: workbench.Tiles = workbench.OSM,
) -> FastAPI:
    """The app; its lifespan opens the pool and, unless webhook_interval_s is None, runs the
    webhook delivery worker. The ports (api/ports.py) are what it needs from the other rooms. A
    server process passes freeze_heap (tests build many apps in one process and leave it off)."""
    registry = CollectorRegistry()
    requests = Counter(
        "lienwatch_api_requests", "API requests by method and status", ["method", "status"], registry=registry
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db: ConnectionPool[Connection] = ConnectionPool(
            database_url,
            min_size=min(4, pool_max_size),
            max_size=pool_max_size,
            kwargs={"autocommit": True},
            open=False,
        )
        db.open(wait=False)
        if freeze_heap:
            # What exists now (modules, the app, its routes and schemas) lives as long as the
            # process: keep it out of the collector's full passes, which walked it every few
            # seconds under load and put 60-90 ms stalls into the p99 of a track read.
            gc.collect()
            gc.freeze()
        app.state.pool = db
        stop = asyncio.Event()
        worker = None
        if webhook_interval_s is not None:
            worker = asyncio.create_task(
                delivery.run(db, interval_s=webhook_interval_s, backoff=webhook_backoff, stop=stop, allow=webhook_allow)
            )
        try:
            yield
        finally:
            stop.set()
            if worker is not None:
                with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                    await asyncio.wait_for(worker, timeout=15)
            await asyncio.to_thread(db.close)

    app = FastAPI(
        title="lienwatch",
        version="0.1.0",
        description="Collateral GPS monitoring for car-loan lenders: the collectors' API.",
        lifespan=lifespan,
        docs_url=None,  # api/docs.py serves them with their assets, not from a CDN
        redoc_url=None,
    )
    app.state.database_url = database_url
    app.state.quarantine_replay = quarantine_replay
    app.state.downlink = downlink
    app.state.broker_ready = broker_ready
    app.state.registry = registry
    app.state.stream_poll_s = stream_poll_s
    app.state.webhook_allow = webhook_allow
    app.state.metrics_token = metrics_token
    app.state.location_reads = RateLimiter(location_reads_per_minute, period_s=60.0)
    app.state.auth_failures = RateLimiter(auth_failures_per_minute, period_s=60.0)
    errors.install(app)
    docs.install(app)

    # An oversized body is refused before routing and authentication (the counter, added after
    # and so outside it, still counts the 413).
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes, per_path=dict.fromkeys(BULK_PATHS, max_bulk_body_bytes))
    app.add_middleware(_CountRequests, counter=requests)
    app.include_router(health.router)
    for router in ROUTERS:
        app.include_router(router)
    workbench.install(app, map_tiles)
    return app
