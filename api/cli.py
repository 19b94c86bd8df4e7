"""`lienwatch users`: create API users; the bearer token is printed once and stored hashed."""

import typer
from rich.console import Console

from lienwatch.services import database_url
from lienwatch.settings import Settings
from storage import users
from storage.database import connect
from storage.errors import StorageError

users_app = typer.Typer(help="API users and their bearer tokens.", no_args_is_help=True)
console = Console()


@users_app.callback()
def _users() -> None:
    """API users and their bearer tokens."""


@users_app.command("create")
def create(
    name: str = typer.Argument(..., help="The user's name (a collector's name is what loans are assigned to)."),
    role: str = typer.Option(..., "--role", help=f"One of: {', '.join(users.ROLES)}."),
) -> None:
    """Create a user and print their bearer token (shown only this once)."""
    if role not in users.ROLES:
        console.print(f"[red]error:[/red] --role: must be one of {', '.join(users.ROLES)}, got {role!r}")
        raise typer.Exit(code=2)
    settings = Settings()
    try:
        with database_url(settings) as url, connect(url, autocommit=True) as conn:
            token = users.create_user(conn, name, role)
    except StorageError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=1) from exc
    console.print(f"created {role} {name!r}; bearer token (shown once):", highlight=False)
    typer.echo(token)
