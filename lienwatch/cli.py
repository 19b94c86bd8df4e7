"""The `lienwatch` command: one typer app, a sub-app per room."""

import contextlib
import dataclasses
import json
import logging
import os
from datetime import UTC, datetime
from typing import Any, NoReturn

import psycopg
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from ingest.link import LinkError
from lienwatch.commands import ingest as ingest_cli
from lienwatch.commands import scale as scale_cli
from lienwatch.commands import simulate as simulator_cli
from lienwatch.commands import users as users_cli
from lienwatch.scheduler import maintain_positions
from lienwatch.services import database_url
from lienwatch.settings import Settings, SettingsError
from storage import audit, migrate
from storage.database import connect
from storage.devices import all_devices
from storage.errors import StorageError


class _Cli(typer.Typer):
    """The root command, with the failures an operator causes (a bad setting or URL, a database
    or broker that is down or refuses the login) translated once into one line naming the cause,
    instead of a traceback."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first["loc"])
            _one_line(f"setting LIENWATCH_{field.upper()}: {first['msg']}", 2)
        except SettingsError as exc:
            _one_line(f"setting LIENWATCH_{exc}", 2)
        except (StorageError, LinkError) as exc:
            _one_line(str(exc), 1)
        except psycopg.Error as exc:
            _one_line(f"database: {exc}", 1)


def _one_line(message: str, code: int) -> NoReturn:
    console.print(f"[red]error:[/red] {' '.join(message.split())}", highlight=False, soft_wrap=True)
    raise SystemExit(code)


app = _Cli(help="lienwatch: collateral GPS monitoring for car-loan lenders.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema and maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.command("ingest")(ingest_cli.ingest)
app.command("router")(scale_cli.router)
app.command("worker")(scale_cli.worker)
app.add_typer(ingest_cli.devices_app, name="devices")
app.add_typer(ingest_cli.quarantine_app, name="quarantine")
app.add_typer(ingest_cli.gateway_app, name="gateway")
app.registered_commands += simulator_cli.app.registered_commands  # simulate, evaluate
app.add_typer(users_cli.users_app, name="users")


@app.command("demo")
def demo_command(
    vehicles: int = typer.Option(30, help="Simulated vehicles (one of each scenario needs at least 15)."),
    days: int = typer.Option(4, help="Simulated days of fleet life (long idle needs 4)."),
    seed: int = typer.Option(7, help="Simulation seed."),
    host: str = typer.Option("127.0.0.1", help="API address."),
    port: int = typer.Option(8000, help="API port."),
    exit_after: float = typer.Option(None, help="Stop this many seconds after the fleet is processed."),
    jt808_port: int = typer.Option(6808, help="Port of the JT/T 808 gateway started beside the API (0: any free)."),
    broker_port: int = typer.Option(
        0, help="Port of the embedded MQTT broker (0: any free); unused with LIENWATCH_MQTT_URL."
    ),
) -> None:
    """A simulated fleet through ingest, detectors and alerts, served on the API (embedded services by default)."""
    from lienwatch.demo import PortTaken, demo

    try:
        demo(
            vehicles=vehicles,
            days=days,
            seed=seed,
            host=host,
            port=port,
            exit_after=exit_after,
            jt808_port=jt808_port,
            broker_port=broker_port,
        )
    except PortTaken as exc:
        _one_line(str(exc), 1)


@app.command("scheduler")
def scheduler() -> None:
    """Run the scheduled jobs: positions maintenance, offline / long-idle sweeps, relocation."""
    from lienwatch import scheduler as jobs

    settings = Settings()
    with database_url(settings) as url:
        console.print("scheduler running; Ctrl-C to stop")
        with contextlib.suppress(KeyboardInterrupt, SystemExit):
            jobs.build(settings, url).start()


@app.command("thresholds")
def thresholds() -> None:
    """Print the detectors' thresholds in force: the default, and each portfolio's (LIENWATCH_THRESHOLDS_FILE)."""
    policy = Settings().threshold_policy()
    document = {
        "default": dataclasses.asdict(policy.default),
        "portfolios": {name: dataclasses.asdict(th) for name, th in sorted(policy.portfolios.items())},
    }
    typer.echo(json.dumps(document, indent=2))


@app.command("home")
def home(
    vin: str = typer.Argument(..., help="The vehicle's VIN."),
    purpose: str = typer.Option(..., help="Why the car's overnight locations are read (audited)."),
) -> None:
    """Recompute a car's home cluster now (most frequent overnight stay of the last 30 days).

    Coordinates are printed under the API's rule: precise only while the loan's location may be
    read (delinquent, assigned for recovery, tamper check), else city-level; the read is audited.
    """
    from alerts.relocation import HOME_WINDOW, NIGHT_HOURS, home_of
    from api.policy import NO_LOAN, location_access
    from geofence.home import night_of
    from storage import tracks
    from storage.stays import night_fixes

    if len(purpose.strip()) < 3:
        console.print("[red]error:[/red] --purpose: say why (at least 3 characters)")
        raise typer.Exit(2)
    settings = Settings()
    with database_url(settings) as url, connect(url, autocommit=True) as conn:
        devices = [d.device_id for d in all_devices(conn).values() if d.vin == vin]
        if not devices:
            console.print(f"[red]error:[/red] vin: no registered device on {vin!r}")
            raise typer.Exit(2)
        now = datetime.now(UTC)
        nights = night_fixes(conn, devices, now - HOME_WINDOW, now, settings.timezone, NIGHT_HOURS)
        found, stays = home_of(nights, now=now, timezone=settings.timezone)
        vehicle = tracks.vehicle_loan(conn, vin)
        access = location_access(vehicle) if vehicle else NO_LOAN
        audit.record(
            conn,
            actor=users_cli.operator(),
            action="home_read",
            subject_type="vehicle",
            subject_id=vin,
            purpose=purpose,
            detail={
                "loan_id": vehicle.loan_id if vehicle else None,
                "precise": access.precise,
                "stays": len(stays),
                "home_found": found is not None,
            },
        )
    if found is None:
        console.print(f"no home yet for {vin}: no overnight stay in the last 30 days")
        return
    if not access.precise:
        console.print(f"coordinates city-level: {access.reason}")
    shown = access.shown({"lat": found.lat, "lon": found.lon})
    console.print(f"home of {vin}: {shown['lat']}, {shown['lon']} ({found.nights} nights, {found.stays} stays)")
    table = Table("night of", "lat", "lon", "arrived", "left", title="overnight stays")
    for stay in stays:
        night = night_of(stay, settings.timezone)
        if night is not None:
            point = access.shown({"lat": stay.lat, "lon": stay.lon})
            table.add_row(
                str(night),
                str(point["lat"]),
                str(point["lon"]),
                f"{stay.arrived:%Y-%m-%d %H:%M}",
                f"{stay.left:%Y-%m-%d %H:%M}",
            )
    console.print(table)


@app.command("api")
def api(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, help="Server processes sharing the port (one Python process uses one core)."),
    access_log: bool = typer.Option(
        False, help="Log a line per request (the request counter is at /metrics either way)."
    ),
) -> None:
    """Serve the HTTP API (OpenAPI at /docs)."""
    import uvicorn

    from lienwatch.api_wiring import configured_app
    from lienwatch.services import mqtt_url

    settings = Settings()
    with database_url(settings) as db, mqtt_url(settings) as broker:
        _schema_ready(settings, db)
        options: dict[str, Any] = {"host": host, "port": port, "log_level": "info", "access_log": access_log}
        if workers == 1:
            app = configured_app(settings, database_url=db, mqtt_url=broker, freeze_heap=True)
            uvicorn.run(app, **options)
        else:
            # Worker processes build their own app from the environment (embedded services included).
            os.environ |= {"LIENWATCH_DATABASE_URL": db, "LIENWATCH_MQTT_URL": broker}
            uvicorn.run("lienwatch.api_wiring:from_environment", factory=True, workers=workers, **options)


def _schema_ready(settings: Settings, url: str) -> None:
    """The API needs a migrated database: the embedded one is migrated here; a configured one
    with pending migrations is refused with the command that fixes it (its owner runs it)."""
    with connect(url, autocommit=True) as conn:
        pending = migrate.status(conn).pending
        if pending and not settings.database_url:
            migrate.migrate(conn, timescale=settings.timescale)
            pending = []
    if pending:
        console.print(
            f"[red]error:[/red] the database has pending migrations ({', '.join(pending)}): "
            "run `lienwatch db migrate` first"
        )
        raise typer.Exit(code=1)


console = Console()


@app.callback()
def _main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log at DEBUG level.")) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _fail(exc: Exception) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc}")
    return typer.Exit(code=1)


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply pending migrations (idempotent: a second run applies nothing and says so)."""
    settings = Settings()
    try:
        with database_url(settings) as service_url:
            url = settings.owner_database_url or service_url  # schema changes are the owner's
            with connect(url, autocommit=True) as conn:
                applied = migrate.migrate(conn, timescale=settings.timescale)
                layout = migrate.current_layout(conn)
            if layout == "native" or applied:
                maintain_positions(settings, url)  # days ahead, or TimescaleDB policies for a new layout
    except StorageError as exc:
        raise _fail(exc) from exc
    if applied:
        for name in applied:
            console.print(f"applied {name}")
        console.print(f"{len(applied)} migration(s) applied; positions layout: {layout}")
    else:
        console.print(f"database is up to date; nothing to apply (positions layout: {layout})")


@db_app.command("status")
def db_status() -> None:
    """Show applied and pending migrations and the positions layout."""
    settings = Settings()
    try:
        with database_url(settings) as url, connect(settings.owner_database_url or url, autocommit=True) as conn:
            state = migrate.status(conn)
    except StorageError as exc:
        raise _fail(exc) from exc
    table = Table("version", "name", "layout")
    for version, name, layout in state.applied:
        table.add_row(version, name, layout or "")
    console.print(table)
    console.print(f"pending: {', '.join(state.pending) if state.pending else 'none'}")
    console.print(f"positions layout: {state.layout or 'not created'}")
    console.print(f"timescaledb: {state.timescale_version or 'absent'}")


@db_app.command("maintain")
def db_maintain() -> None:
    """Create day partitions ahead and drop expired ones (or refresh TimescaleDB policies)."""
    settings = Settings()
    try:
        with database_url(settings) as url:
            report = maintain_positions(settings, settings.owner_database_url or url)
    except StorageError as exc:
        raise _fail(exc) from exc
    console.print(
        f"layout {report.layout}: created {len(report.created)} partition(s), dropped {len(report.dropped)} expired"
    )
