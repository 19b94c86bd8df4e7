"""The FastAPI application: health, readiness and metrics (collector endpoints build on this)."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from psycopg_pool import AsyncConnectionPool

from ingest.link import BrokerAddress


def create_app(*, database_url: str, mqtt_url: str) -> FastAPI:
    """The app, with a connection pool opened and closed by its lifespan."""
    registry = CollectorRegistry()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncConnectionPool(database_url, min_size=1, max_size=10, open=False) as pool:
            app.state.pool = pool
            yield

    app = FastAPI(title="lienwatch", version="0.1.0", lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        """The database and the broker are reachable."""
        checks = {"database": await _database_ok(app), "broker": await _broker_ok(mqtt_url)}
        ready = all(checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    @app.get("/metrics")
    async def metrics() -> Response:
        """Prometheus exposition."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app


async def _database_ok(app: FastAPI) -> bool:
    try:
        async with app.state.pool.connection(timeout=2) as conn:
            await conn.execute("SELECT 1")
        return True
    except (psycopg.Error, TimeoutError, OSError):
        return False
    except Exception:  # the pool raises its own PoolTimeout
        return False


async def _broker_ok(mqtt_url: str) -> bool:
    address = BrokerAddress.parse(mqtt_url)
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(address.host, address.port), timeout=2)
    except (OSError, TimeoutError):
        return False
    writer.close()
    await writer.wait_closed()
    return True
