"""Request dependencies: a pooled connection, the authenticated principal, role checks.

FastAPI runs each synchronous dependency in a worker thread of its own, so `Conn` plus
`require(...)` costs a sync endpoint three thread hand-offs before its own (connection in and
out, principal; the role check is async). The read paths collectors hit all day (the queue, one
alert, a vehicle, a track) take `Credentials` and open a `session` inside the endpoint instead:
one hand-off per request, which took the queue from about 340 to 430 requests/s on one server
process. The other endpoints keep the dependencies.
"""

import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg_pool import ConnectionPool

from api.auth import Family, Principal, Role
from api.errors import Forbidden, TooManyRequests, Unauthorized
from api.ratelimit import RateLimiter
from storage import users
from storage.database import Connection

# PostgreSQL's text cannot hold a NUL character: free-text inputs say so in the schema and are
# refused with 422 naming the field, instead of the database refusing the value unnamed.
TEXT = r"^[^\x00]*$"

_bearer = HTTPBearer(auto_error=False, description="A token printed by `lienwatch users create`.")


def pool(request: Request) -> ConnectionPool[Connection]:
    """The app's connection pool (autocommit connections; writes use explicit transactions)."""
    return request.app.state.pool  # type: ignore[no-any-return]


def connection(request: Request) -> Iterator[Connection]:
    """One pooled connection for the request."""
    with pool(request).connection(timeout=5) as conn:
        yield conn


Conn = Annotated[Connection, Depends(connection)]


async def bearer_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> HTTPAuthorizationCredentials:
    """The request's bearer credentials; 401 without any. Checked before the query parameters are
    (no I/O: async, on the event loop), so a caller without a token learns nothing else."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("a bearer token is required (Authorization: Bearer <token>)")
    return credentials


Credentials = Annotated[HTTPAuthorizationCredentials, Depends(bearer_token)]


def principal(request: Request, conn: Conn, credentials: Credentials) -> Principal:
    """The user behind the bearer token; 401 without a valid one, 429 once the caller's address
    has failed too often (a guesser gets no answer about any token until the window passes)."""
    limiter: RateLimiter = request.app.state.auth_failures
    address = request.client.host if request.client else "unknown"
    now = time.monotonic()
    wait = limiter.retry_after(address, now)
    if wait is not None:
        raise TooManyRequests("too many failed authentications from this address", retry_after_s=wait)
    user = users.user_for_token(conn, credentials.credentials)
    if user is None:
        limiter.take(address, now)
        raise Unauthorized("the bearer token is unknown, expired or revoked")
    return Principal(user.name, Role(user.role))


def limit_location_reads(request: Request, who: Principal) -> None:
    """429 once this principal has read locations faster than the configured rate."""
    limiter: RateLimiter = request.app.state.location_reads
    wait = limiter.take(who.name, time.monotonic())
    if wait is not None:
        raise TooManyRequests(f"too many location reads by {who.name!r}", retry_after_s=wait)


def require(family: Family) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting only the roles granted `family`; 403 for the others."""

    # Async (it does no I/O) so it runs on the event loop instead of taking a worker thread.
    async def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        return admitted(who, family)

    return check


def admitted(who: Principal, family: Family) -> Principal:
    """The caller, when its role is granted `family`; 403 naming the family otherwise."""
    if not who.may(family):
        raise Forbidden(f"role {who.role.value!r} may not use {family.value}", family=family.value)
    return who


@dataclass(frozen=True, slots=True)
class Session:
    conn: Connection
    who: Principal


@contextmanager
def session(request: Request, credentials: HTTPAuthorizationCredentials, family: Family) -> Iterator[Session]:
    """A pooled connection and the caller, admitted to `family` (401/403 as `require` gives)."""
    with pool(request).connection(timeout=5) as conn:
        yield Session(conn, admitted(principal(request, conn, credentials), family))
