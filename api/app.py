"""The FastAPI application: composition of the /api/v1 routers, health, errors and the lifespan
that owns the connection pool and the webhook delivery worker."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter
from psycopg_pool import ConnectionPool

from api import delivery, errors, health
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
from storage.database import Connection

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


def create_app(
    *,
    database_url: str,
    mqtt_url: str,
    webhook_interval_s: float | None = 1.0,
    webhook_backoff: delivery.Backoff = delivery.Backoff(),
    stream_poll_s: float = 1.0,
    pool_max_size: int = 10,
) -> FastAPI:
    """The app; its lifespan opens the pool and, unless webhook_interval_s is None, runs the
    webhook delivery worker."""
    registry = CollectorRegistry()
    requests = Counter(
        "lienwatch_api_requests", "API requests by method and status", ["method", "status"], registry=registry
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db: ConnectionPool[Connection] = ConnectionPool(
            database_url, min_size=1, max_size=pool_max_size, kwargs={"autocommit": True}, open=False
        )
        db.open(wait=False)
        app.state.pool = db
        stop = asyncio.Event()
        worker = None
        if webhook_interval_s is not None:
            worker = asyncio.create_task(
                delivery.run(db, interval_s=webhook_interval_s, backoff=webhook_backoff, stop=stop)
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
    )
    app.state.database_url = database_url
    app.state.mqtt_url = mqtt_url
    app.state.registry = registry
    app.state.stream_poll_s = stream_poll_s
    errors.install(app)

    @app.middleware("http")
    async def count(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        requests.labels(request.method, str(response.status_code)).inc()
        return response

    app.include_router(health.router)
    for router in ROUTERS:
        app.include_router(router)
    return app
