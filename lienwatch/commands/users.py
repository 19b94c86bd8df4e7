"""`lienwatch users`: create, list, revoke and rotate API users' bearer tokens.

A token is printed once and stored hashed, with an expiry (LIENWATCH_TOKEN_TTL_DAYS). Every
command here is written to the audit log, with the operating-system account that ran it.
"""

import getpass
from datetime import timedelta

import typer
from rich.console import Console

from lienwatch.services import database_url
from lienwatch.settings import Settings
from storage import audit, users
from storage.database import Connection, connect
from storage.errors import StorageError

users_app = typer.Typer(help="API users and their bearer tokens.", no_args_is_help=True)
console = Console()


@users_app.callback()
def _users() -> None:
    """API users and their bearer tokens."""


def operator() -> str:
    """Who ran the command, for the audit log."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in a bare container
        return "cli:unknown"


def _audit(conn: Connection, action: str, name: str, detail: dict[str, object]) -> None:
    audit.record(
        conn, actor=operator(), action=action, subject_type="user", subject_id=name, purpose=None, detail=detail
    )


def _fail(exc: Exception, code: int = 1) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
    return typer.Exit(code=code)


@users_app.command("create")
def create(
    name: str = typer.Argument(..., help="The user's name (a collector's name is what loans are assigned to)."),
    role: str = typer.Option(..., "--role", help=f"One of: {', '.join(users.ROLES)}."),
) -> None:
    """Create a user and print their bearer token (shown only this once)."""
    if role not in users.ROLES:
        raise _fail(ValueError(f"--role: must be one of {', '.join(users.ROLES)}, got {role!r}"), 2)
    try:
        users.check_name(name)
    except ValueError as exc:
        raise _fail(exc, 2) from exc
    settings = Settings()
    ttl = timedelta(days=settings.token_ttl_days)
    try:
        with database_url(settings) as url, connect(url, autocommit=True) as conn:
            token = users.create_user(conn, name, role, ttl=ttl)
            _audit(conn, "user_create", name, {"role": role, "ttl_days": settings.token_ttl_days})
    except StorageError as exc:
        raise _fail(exc) from exc
    console.print(
        f"created {role} {name!r}; bearer token (shown once, valid {settings.token_ttl_days} days):", highlight=False
    )
    typer.echo(token)


@users_app.command("list")
def list_users() -> None:
    """Every user with their role, live tokens and when the latest expires (no token is shown)."""
    settings = Settings()
    try:
        with database_url(settings) as url, connect(url, autocommit=True) as conn:
            found = users.list_users(conn)
            _audit(conn, "user_list", "*", {"users": len(found)})
    except StorageError as exc:
        raise _fail(exc) from exc
    # Plain lines, not a table: a table narrower than the names would cut them.
    typer.echo("name\trole\tcreated\tdisabled\tlive tokens\texpires")
    for u in found:
        disabled = f"{u.disabled_at:%Y-%m-%d}" if u.disabled_at else "-"
        expires = f"{u.expires_at:%Y-%m-%d %H:%M}" if u.expires_at else "-"
        typer.echo(f"{u.name}\t{u.role}\t{u.created_at:%Y-%m-%d}\t{disabled}\t{u.live_tokens}\t{expires}")


@users_app.command("revoke")
def revoke(name: str = typer.Argument(..., help="The user whose tokens stop working now.")) -> None:
    """Revoke every live token of a user (they get 401 from the next request on)."""
    settings = Settings()
    try:
        with database_url(settings) as url, connect(url, autocommit=True) as conn, conn.transaction():
            count = users.revoke_tokens(conn, name)
            _audit(conn, "user_revoke", name, {"tokens": count})
    except StorageError as exc:
        raise _fail(exc) from exc
    console.print(f"revoked {count} token(s) of {name!r}", highlight=False)


@users_app.command("rotate")
def rotate(name: str = typer.Argument(..., help="The user who gets a new token.")) -> None:
    """Revoke a user's live tokens and print a new one (shown only this once)."""
    settings = Settings()
    try:
        with database_url(settings) as url, connect(url, autocommit=True) as conn, conn.transaction():
            token = users.rotate_token(conn, name, ttl=timedelta(days=settings.token_ttl_days))
            _audit(conn, "user_rotate", name, {"ttl_days": settings.token_ttl_days})
    except StorageError as exc:
        raise _fail(exc) from exc
    console.print(
        f"new bearer token for {name!r} (shown once, valid {settings.token_ttl_days} days); the old ones are revoked:",
        highlight=False,
    )
    typer.echo(token)
