"""`simulate` and `evaluate`: the simulator's commands, mounted into the `lienwatch` command."""

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

import orjson
import psycopg
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from lienwatch.fleetrun import write_run
from lienwatch.services import database_url
from lienwatch.settings import Settings
from simulators.evaluate import AlertRow, evaluate
from simulators.labels import LabelError, iso, read_labels, read_meta
from simulators.messy import Messiness
from simulators.publish import PublishError, publish
from simulators.scenarios import ScenarioError
from simulators.seed import seed_fleet
from simulators.simulation import SimConfig, Simulation, default_start, simulate
from storage import alert_queries
from storage.database import connect
from storage.errors import StorageError

log = logging.getLogger(__name__)

app = typer.Typer(help="Simulated trackers and the evaluation of alerts against their labels.", no_args_is_help=True)
console = Console()


def _parse_start(text: str | None, days: int) -> datetime:
    if text is None:
        return default_start(days, datetime.now(UTC))
    try:
        start = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO 8601 time: {text!r}", param_hint="--start") from exc
    return start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=1)


@app.command("simulate")
def simulate_command(
    vehicles: int = typer.Option(100, "--vehicles", min=1, help="Fleet size."),
    days: int = typer.Option(7, "--days", min=1, help="Simulated days of fleet life."),
    seed: int = typer.Option(1, "--seed", help="Random seed: same seed, same messages."),
    scenarios: str = typer.Option("all", "--scenarios", help='Comma list of scenarios, "all" or "none".'),
    rate: float = typer.Option(0.0, "--rate", min=0.0, help="Messages per second; 0 publishes as fast as possible."),
    labels: Path | None = typer.Option(None, "--labels", help="Write ground-truth labels here (JSON lines)."),
    messy: bool = typer.Option(False, "--messy/--no-messy", help="Duplicates, reordering, backfill, bad payloads."),
    start: str | None = typer.Option(None, "--start", help="Simulated start (ISO 8601, UTC); default now − days."),
    wireless_share: float = typer.Option(
        0.3, "--wireless-share", min=0.0, max=1.0, help="Share of cars that also carry a wireless tracker."
    ),
    seed_db: bool = typer.Option(False, "--seed-db", help="Write vehicles, devices and loans to the database first."),
    id_prefix: str = typer.Option("sim", "--id-prefix", help="Prefix of device and loan ids."),
    do_publish: bool = typer.Option(True, "--publish/--no-publish", help="Publish to the broker (or only build)."),
    jt808: str | None = typer.Option(None, "--jt808", help="Send over JT/T 808 to this gateway (host:port), not MQTT."),
) -> None:
    """Simulate a fleet of trackers with labelled risk scenarios and publish it to the MQTT broker."""
    settings = Settings()
    config = SimConfig(
        vehicles,
        days,
        seed,
        _parse_start(start, days),
        scenarios,
        wireless_share,
        Messiness() if messy else None,
        id_prefix,
    )
    try:
        sim = simulate(config)
    except (ScenarioError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    for name in sorted(set(sim.skipped)):
        console.print(f"[yellow]skipped scenario[/yellow] {name} (needs more days or found no place)")
    console.print(
        f"{vehicles} vehicles, {len(sim.devices)} devices, {days} days from {iso(sim.fleet.start)}; "
        f"{len(sim.labels)} labels"
    )
    if labels is not None:
        write_run(labels, config, sim)
        console.print(f"labels written to {labels}")
    if seed_db:
        try:
            with database_url(settings) as url, connect(url) as conn:
                counts = seed_fleet(conn, sim.fleet)
        except StorageError as exc:
            raise _fail(str(exc)) from exc
        console.print("seeded {} vehicles, {} devices, {} loans".format(*counts))
    if not do_publish:
        return
    if jt808 is not None:
        return _through_gateway(settings, sim, jt808, seed_db=seed_db)
    if not settings.mqtt_url:
        raise _fail("LIENWATCH_MQTT_URL is not set: nowhere to publish (or pass --no-publish)")
    total = sim.message_count()
    columns = (TextColumn("publishing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("publish", total=total)
        try:
            report = publish(
                settings.mqtt_url, sim.messages(), rate=rate, on_progress=lambda n: progress.advance(task, n)
            )
        except PublishError as exc:
            raise _fail(str(exc)) from exc
    console.print(f"published {report.acked} messages in {report.seconds:.1f} s ({report.rate:,.0f} msg/s)")


def _through_gateway(settings: Settings, sim: Simulation, gateway: str, *, seed_db: bool) -> None:
    """`simulate --jt808 HOST:PORT`: the fleet's messages through the gateway, one terminal per device."""
    from simulators import jt808 as terminals

    try:
        host, port = terminals.address(gateway)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    if seed_db:
        with database_url(settings) as url, connect(url) as conn:
            console.print(f"registered {terminals.seed_terminals(conn, sim.fleet.devices())} terminals by phone number")
    try:
        report = asyncio.run(terminals.drive(host, port, sim.messages()))
    except (terminals.TerminalError, OSError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print(
        f"sent {report.sent} reports over JT/T 808, {report.acked} answered after commit, in {report.seconds:.1f} s "
        f"({report.rate:,.0f}/s); {report.skipped} malformed messages have no JT/T 808 form"
    )


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


@app.command("evaluate")
def evaluate_command(
    labels: Path = typer.Option(..., "--labels", exists=True, dir_okay=False, help="Labels from `simulate`."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the scores as JSON here."),
    vehicles: int | None = typer.Option(None, "--vehicles", help="Fleet size (default: from the labels' run)."),
    days: float | None = typer.Option(None, "--days", help="Simulated days (default: from the labels' run)."),
) -> None:
    """Compare the alerts in the database with the labels: precision and recall per alert kind."""
    settings = Settings()
    try:
        truth = read_labels(labels)
        meta = read_meta(labels) or {}
    except (LabelError, orjson.JSONDecodeError) as exc:
        raise _fail(str(exc)) from exc
    vehicles = vehicles if vehicles is not None else meta.get("vehicles")
    days = days if days is not None else meta.get("days")
    if vehicles is None or days is None:
        raise _fail("fleet size unknown: pass --vehicles and --days (no run description beside the labels)")
    try:
        with database_url(settings) as url, connect(url) as conn:
            rows = alert_queries.opened_alerts(conn, loan_prefix=meta.get("id_prefix"))
    except (StorageError, psycopg.Error) as exc:
        raise _fail(str(exc)) from exc
    alerts = [AlertRow(kind, loan_id, int(opened_at.timestamp())) for kind, loan_id, opened_at in rows]
    result = evaluate(truth, alerts, vehicles=int(vehicles), days=float(days))
    table = Table("kind", "tp", "fp", "fn", "precision", "recall", title="alerts vs labels")
    for kind, score in sorted(result.kinds.items()):
        table.add_row(kind, str(score.tp), str(score.fp), str(score.fn), _fmt(score.precision), _fmt(score.recall))
    console.print(table)
    console.print(
        f"false alerts per 1,000 vehicle-days: {result.false_alerts_per_1000_vehicle_days:.2f} "
        f"({result.false_alerts} over {result.vehicle_days:,.0f} vehicle-days)"
    )
    console.print(f"negative situations alerted: {result.negatives_alerted} of {result.negatives}")
    if result.tolerated:
        console.print(f"alerts while a device's habits were being learned (not scored): {result.tolerated}")
    if json_out is not None:
        json_out.write_bytes(orjson.dumps(result.to_json(), option=orjson.OPT_INDENT_2))
