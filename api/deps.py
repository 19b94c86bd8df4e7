"""Request dependencies: a pooled connection, the authenticated principal, role checks."""

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg_pool import ConnectionPool

from api.auth import Family, Principal, Role
from api.errors import Forbidden, Unauthorized
from storage import users
from storage.database import Connection

_bearer = HTTPBearer(auto_error=False, description="A token printed by `lienwatch users create`.")


def pool(request: Request) -> ConnectionPool[Connection]:
    """The app's connection pool (autocommit connections; writes use explicit transactions)."""
    return request.app.state.pool  # type: ignore[no-any-return]


def connection(request: Request) -> Iterator[Connection]:
    """One pooled connection for the request."""
    with pool(request).connection(timeout=5) as conn:
        yield conn


Conn = Annotated[Connection, Depends(connection)]


def principal(conn: Conn, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    """The user behind the bearer token; 401 without a valid one."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("a bearer token is required (Authorization: Bearer <token>)")
    user = users.user_for_token(conn, credentials.credentials)
    if user is None:
        raise Unauthorized("the bearer token is unknown or revoked")
    return Principal(user.name, Role(user.role))


def require(family: Family) -> Callable[[Principal], Principal]:
    """A dependency admitting only the roles granted `family`; 403 for the others."""

    def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if not who.may(family):
            raise Forbidden(f"role {who.role.value!r} may not use {family.value}", family=family.value)
        return who

    return check
