"""RFC 9457 problem details for every error the API returns, translated once here."""

import logging
import math
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from storage.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

PROBLEM_TYPE = "https://lienwatch.example/problems/"
MEDIA_TYPE = "application/problem+json"


class ApiError(Exception):
    """An error with its HTTP status; rendered as problem+json."""

    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class Unauthorized(ApiError):
    status, title, slug = 401, "Unauthorized", "unauthorized"


class Forbidden(ApiError):
    status, title, slug = 403, "Forbidden", "forbidden"


class LocationRestricted(Forbidden):
    title, slug = "Precise location not available", "location-restricted"


class NotFound(ApiError):
    status, title, slug = 404, "Not found", "not-found"


class Conflict(ApiError):
    status, title, slug = 409, "Conflict", "conflict"


class LegalHoldInForce(Conflict):
    title, slug = "Legal hold in force", "legal-hold"


class Unprocessable(ApiError):
    status, title, slug = 422, "Invalid request", "validation"


class TooManyRequests(ApiError):
    status, title, slug = 429, "Too many requests", "too-many-requests"

    def __init__(self, detail: str, *, retry_after_s: float) -> None:
        super().__init__(detail, retry_after_s=max(1, math.ceil(retry_after_s)))
        self.headers = {"Retry-After": str(self.extra["retry_after_s"])}


class Unavailable(ApiError):
    status, title, slug = 503, "Service unavailable", "unavailable"


def problem(status: int, title: str, detail: str, slug: str, instance: str, **extra: Any) -> JSONResponse:
    """A problem+json response."""
    body = {"type": PROBLEM_TYPE + slug, "title": title, "status": status, "detail": detail, "instance": instance}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body | extra, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        response = problem(exc.status, exc.title, exc.detail, exc.slug, request.url.path, **exc.extra)
        response.headers.update(getattr(exc, "headers", {}))
        return response

    @app.exception_handler(RequestValidationError)
    async def validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": _field(e.get("loc", ())), "reason": str(e.get("msg", ""))} for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors) or "invalid request"
        return problem(422, "Invalid request", detail, "validation", request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {404: "Not found", 405: "Method not allowed", 401: "Unauthorized", 403: "Forbidden"}
        title = titles.get(exc.status_code, "HTTP error")
        slug = title.lower().replace(" ", "-")
        response = problem(exc.status_code, title, str(exc.detail), slug, request.url.path)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(DatabaseUnavailable)
    @app.exception_handler(PoolTimeout)
    @app.exception_handler(psycopg.OperationalError)
    async def unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable serving %s: %s", request.url.path, exc)
        return problem(503, "Service unavailable", "the database is unavailable", "unavailable", request.url.path)

    # The database's own words name tables, constraints and stored values: they stay in the log.
    @app.exception_handler(psycopg.DataError)
    async def bad_data(request: Request, exc: psycopg.DataError) -> JSONResponse:
        log.warning("database refused a value serving %s: %s", request.url.path, exc)
        return problem(422, "Invalid request", "the database refused a value", "validation", request.url.path)

    @app.exception_handler(psycopg.IntegrityError)
    async def integrity(request: Request, exc: psycopg.IntegrityError) -> JSONResponse:
        log.warning("integrity error serving %s: %s", request.url.path, exc)
        return problem(409, "Conflict", "the change conflicts with stored data", "conflict", request.url.path)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error serving %s", request.url.path)
        return problem(500, "Internal error", "an unexpected error occurred", "internal", request.url.path)
