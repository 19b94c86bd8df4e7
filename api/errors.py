"""RFC 9457 problem details for every error the API returns, translated and documented once here."""

import logging
import math
import re
from collections.abc import Callable
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema
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


class FieldError(BaseModel):
    field: str = Field(description="Where: body.vin, query.limit, row 3.days_past_due, ...")
    reason: str


class Problem(BaseModel):
    """An RFC 9457 problem: what went wrong, and the fields or state that caused it."""

    # Errors may carry further members (RFC 9457 §3.2); those lienwatch sets are named below.
    model_config = ConfigDict(extra="allow")

    type: str = Field(description=f"{PROBLEM_TYPE}<slug>")
    title: str
    status: int
    detail: str
    instance: str = Field(description="The request path")
    errors: list[FieldError] | None = Field(None, description="422: every field refused, with the reason")
    field: str | None = Field(None, description="The field refused")
    family: str | None = Field(None, description="403: the endpoint family the role lacks")
    retry_after_s: int | None = Field(None, description="429: seconds before trying again (also Retry-After)")
    state: str | None = Field(None, description="409: the alert's state")
    event: str | None = Field(None, description="409: the event the state does not allow")
    hold_id: int | None = Field(None, description="409: the hold already open")
    hold: str | None = Field(None, description="409: the legal hold in force")


_REF = "#/components/schemas/{model}"
_WHEN = {
    400: "The body could not be read (not UTF-8, not JSON)",
    401: "No bearer token, or one unknown, expired or revoked",
    403: "The caller's role may not use this endpoint, or the location may not be read precisely now",
    404: "Not found, or not in the caller's scope",
    409: "The change conflicts with the stored state (an alert's lifecycle, an open hold, a legal hold)",
    413: "The request body is over the size limit",
    422: "A parameter or a body field is invalid: `errors` names each",
    429: "Too many requests (failed authentications from this address, or location reads)",
    503: "The database (or, for a command, the broker) is unavailable",
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}, "description": "Bearer"}},
    429: {"Retry-After": {"required": True, "schema": {"type": "integer", "minimum": 1}, "description": "Seconds"}},
}
# Every operation behind a bearer token can answer these; one with a request body these as well.
AUTHENTICATED = (401, 403, 422, 429, 503)
BODY = (400, 413)


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses for these error statuses: a Problem in application/problem+json."""
    return {
        status: {
            "description": _WHEN[status],
            "content": {MEDIA_TYPE: {"schema": {"$ref": _REF.format(model="Problem")}}},
        }
        | ({"headers": _HEADERS[status]} if status in _HEADERS else {})
        for status in statuses
    }


def document(app: FastAPI) -> None:
    """Add the Problem schema the error responses refer to to the app's OpenAPI components."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            _, definitions = models_json_schema([(Problem, "serialization")], ref_template=_REF)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(definitions.get("$defs", {}))
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]


def problem(status: int, title: str, detail: str, slug: str, instance: str, **extra: Any) -> JSONResponse:
    """A problem+json response."""
    body = {"type": PROBLEM_TYPE + slug, "title": title, "status": status, "detail": detail, "instance": instance}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body | extra, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})


def _allowed(request: Request) -> str | None:
    """Every method the OpenAPI document gives this path, for a 405's Allow header (None when
    the path is not in it). Starlette names only the first route that matched the path, and
    FastAPI makes one route per method: DELETE /fences got `Allow: GET` though POST is served
    there too (RFC 9110 §15.5.6 wants them all). A concrete path wins over templated ones, as
    OpenAPI matches them: /fences/import is not /fences/{fence_id}."""
    paths: dict[str, dict[str, Any]] = request.app.openapi().get("paths", {})
    path = request.scope["path"]
    found = [paths[path]] if path in paths else [
        operations
        for template, operations in paths.items()
        if "{" in template and re.fullmatch(re.sub(r"\\{\w+\\}", "[^/]+", re.escape(template)), path)
    ]
    methods = sorted({m.upper() for operations in found for m in operations if m in _METHODS})
    return ", ".join(methods) or None


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json, and document the Problem."""
    document(app)

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
        titles = {
            400: "Bad request",
            401: "Unauthorized",
            403: "Forbidden",
            404: "Not found",
            405: "Method not allowed",
        }
        title = titles.get(exc.status_code, "HTTP error")
        slug = title.lower().replace(" ", "-")
        response = problem(exc.status_code, title, str(exc.detail), slug, request.url.path)
        if exc.headers:
            response.headers.update(exc.headers)
        if exc.status_code == 405 and (allowed := _allowed(request)):
            response.headers["Allow"] = allowed
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
