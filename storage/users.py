"""API users and their bearer tokens; a token is stored only as its SHA-256."""

import hashlib
import secrets
from dataclasses import dataclass

from storage.database import Connection
from storage.errors import StorageError

ROLES = ("admin", "supervisor", "collector", "integration", "installer")


class UserExists(StorageError):
    """A user of this name already exists."""


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str


def token_digest(token: str) -> bytes:
    """The SHA-256 of a token, as stored; the token itself is never kept."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def create_user(conn: Connection, name: str, role: str) -> str:
    """Create a user and a first token; returns the token (printed once, never stored)."""
    if role not in ROLES:
        raise ValueError(f"role: must be one of {', '.join(ROLES)}, got {role!r}")
    with conn.transaction():
        exists = conn.execute("SELECT 1 FROM api_users WHERE name = %s", (name,)).fetchone()
        if exists:
            raise UserExists(f"user {name!r} already exists")
        conn.execute("INSERT INTO api_users (name, role) VALUES (%s, %s)", (name, role))
        return issue_token(conn, name)


def issue_token(conn: Connection, name: str) -> str:
    """A new random token for an existing user."""
    token = secrets.token_urlsafe(32)
    conn.execute(
        "INSERT INTO api_tokens (token_sha256, user_name) VALUES (%s, %s)",
        (token_digest(token), name),
    )
    return token


def get_user(conn: Connection, name: str) -> User | None:
    """The enabled user of this name, or None."""
    row = conn.execute("SELECT name, role FROM api_users WHERE name = %s AND disabled_at IS NULL", (name,)).fetchone()
    return User(str(row[0]), str(row[1])) if row else None


def user_for_token(conn: Connection, token: str) -> User | None:
    """The enabled user a live token belongs to, or None."""
    row = conn.execute(
        """
        SELECT u.name, u.role
          FROM api_tokens t
          JOIN api_users u ON u.name = t.user_name
         WHERE t.token_sha256 = %s
           AND t.revoked_at IS NULL
           AND u.disabled_at IS NULL
        """,
        (token_digest(token),),
    ).fetchone()
    return User(str(row[0]), str(row[1])) if row else None
