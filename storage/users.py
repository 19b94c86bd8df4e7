"""API users and their bearer tokens; a token is stored only as its SHA-256, with its expiry."""

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.database import Connection
from storage.errors import StorageError

ROLES = ("admin", "supervisor", "collector", "integration", "installer")
MAX_NAME = 200


class UserExists(StorageError):
    """A user of this name already exists."""


class UserNotFound(StorageError):
    """No user has this name."""


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str


@dataclass(frozen=True, slots=True)
class UserSummary:
    name: str
    role: str
    created_at: datetime
    disabled_at: datetime | None
    live_tokens: int
    expires_at: datetime | None  # the latest expiry among the live tokens


def token_digest(token: str) -> bytes:
    """The SHA-256 of a token, as stored; the token itself is never kept."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def check_name(name: str) -> None:
    """A user name is what the audit log and loan assignments show: present, trimmed, printable."""
    if not name or name != name.strip():
        raise ValueError("name: must be non-empty, without leading or trailing spaces")
    if len(name) > MAX_NAME:
        raise ValueError(f"name: at most {MAX_NAME} characters")
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise ValueError("name: must not contain control or invisible characters")


def create_user(conn: Connection, name: str, role: str, *, ttl: timedelta) -> str:
    """Create a user and a first token valid for `ttl`; returns the token (printed once, never stored)."""
    check_name(name)
    if role not in ROLES:
        raise ValueError(f"role: must be one of {', '.join(ROLES)}, got {role!r}")
    with conn.transaction():
        exists = conn.execute("SELECT 1 FROM api_users WHERE name = %s", (name,)).fetchone()
        if exists:
            raise UserExists(f"user {name!r} already exists")
        conn.execute("INSERT INTO api_users (name, role) VALUES (%s, %s)", (name, role))
        return issue_token(conn, name, ttl=ttl)


def issue_token(conn: Connection, name: str, *, ttl: timedelta) -> str:
    """A new random token for an existing user, valid for `ttl`."""
    token = secrets.token_urlsafe(32)
    conn.execute(
        "INSERT INTO api_tokens (token_sha256, user_name, expires_at) VALUES (%s, %s, now() + %s)",
        (token_digest(token), name, ttl),
    )
    return token


def revoke_tokens(conn: Connection, name: str) -> int:
    """Revoke every live token of a user; returns how many. UserNotFound for an unknown name."""
    if conn.execute("SELECT 1 FROM api_users WHERE name = %s", (name,)).fetchone() is None:
        raise UserNotFound(f"user {name!r} does not exist")
    cur = conn.execute(
        "UPDATE api_tokens SET revoked_at = now() WHERE user_name = %s AND revoked_at IS NULL AND expires_at > now()",
        (name,),
    )
    return cur.rowcount


def rotate_token(conn: Connection, name: str, *, ttl: timedelta) -> str:
    """Revoke a user's live tokens and issue a new one, in one transaction; returns the new token."""
    with conn.transaction():
        revoke_tokens(conn, name)
        return issue_token(conn, name, ttl=ttl)


def list_users(conn: Connection) -> list[UserSummary]:
    """Every user with their live-token count and latest expiry, by name."""
    rows = conn.execute(
        """
        SELECT u.name, u.role, u.created_at, u.disabled_at,
               count(t.token_sha256)::int, max(t.expires_at)
          FROM api_users u
          LEFT JOIN api_tokens t
                 ON t.user_name = u.name AND t.revoked_at IS NULL AND t.expires_at > now()
         GROUP BY u.name, u.role, u.created_at, u.disabled_at
         ORDER BY u.name
        """
    ).fetchall()
    return [UserSummary(*row) for row in rows]


def get_user(conn: Connection, name: str) -> User | None:
    """The enabled user of this name, or None."""
    row = conn.execute("SELECT name, role FROM api_users WHERE name = %s AND disabled_at IS NULL", (name,)).fetchone()
    return User(str(row[0]), str(row[1])) if row else None


def user_for_token(conn: Connection, token: str) -> User | None:
    """The enabled user a live (unrevoked, unexpired) token belongs to, or None."""
    row = conn.execute(
        """
        SELECT u.name, u.role
          FROM api_tokens t
          JOIN api_users u ON u.name = t.user_name
         WHERE t.token_sha256 = %s
           AND t.revoked_at IS NULL
           AND t.expires_at > now()
           AND u.disabled_at IS NULL
        """,
        (token_digest(token),),
    ).fetchone()
    return User(str(row[0]), str(row[1])) if row else None
