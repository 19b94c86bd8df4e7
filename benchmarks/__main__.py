"""`python -m benchmarks <name>`: each benchmark prints its figures and, with --json, writes them."""

import json
import logging
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from lienwatch.services import database_url, mqtt_url
from lienwatch.settings import Settings

app = typer.Typer(help="Benchmarks that print figures (and --json).", no_args_is_help=True)
console = Console()

_INGEST_ROWS = [
    ("drain_positions_per_s", "lienwatch ingest, backlog drain (positions/s)"),
    ("live_positions_per_s", "lienwatch ingest, live with publishers running (positions/s)"),
    ("live_published_per_s", "  publishers' rate during live (msgs/s)"),
    ("bare_aiomqtt_per_s", "anchor: bare aiomqtt QoS 1 receive loop, drain (msgs/s)"),
    ("naive_insert_per_s", "anchor: naive ingestor, INSERT + COMMIT per message (positions/s)"),
    ("copy_rows_per_s", "anchor: raw binary COPY of the same rows (rows/s)"),
    ("peak_rss_mb", "ingestor peak RSS (MB)"),
    ("drain_vs_bare_aiomqtt", "drain / bare aiomqtt (goal >= 0.75)"),
    ("drain_vs_naive", "drain / naive ingestor (goal >= 5)"),
]

_JSON_OPTION = typer.Option(None, "--json", help="Also write the figures here as JSON.")


@app.callback()
def _main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log at DEBUG level.")) -> None:
    # Logged as the `lienwatch` command logs, so migrations and embedded services say what they do.
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _report(
    title: str, result: dict[str, Any], json_path: Path | None, rows: list[tuple[str, str]] | None = None
) -> None:
    """A benchmark's figures as a table (every key, or the labelled `rows`), and as JSON when asked."""
    table = Table("measure", "value", title=title)
    for key, label in rows or [(key, key) for key in result]:
        value = result[key]
        table.add_row(label, f"{value:,}" if isinstance(value, int) else str(value))
    console.print(table)
    _write_json(result, json_path)


def _write_json(result: dict[str, Any], json_path: Path | None) -> None:
    if json_path:
        json_path.write_text(json.dumps(result, indent=2, default=str) + "\n")
        console.print(f"wrote {json_path}")


@app.command("ingest")
def ingest(
    devices: int = typer.Option(2000, help="Simulated trackers."),
    per_device: int = typer.Option(50, help="Fixes per tracker in the backlog (messages = devices x this)."),
    live_seconds: float = typer.Option(10.0, help="How long publishers run in the live phase."),
    publishers: int = typer.Option(2, help="Publisher processes."),
    json_path: Path = _JSON_OPTION,
) -> None:
    """Measure ingest drain and live rates beside bare aiomqtt, a naive ingestor and raw COPY."""
    from benchmarks.ingest import run as bench

    settings = Settings()
    with database_url(settings) as admin:
        result = bench.run(
            admin_url=admin,
            devices=devices,
            per_device=per_device,
            live_seconds=live_seconds,
            publishers=publishers,
        )
    title = f"ingest benchmark: {result['messages']:,} messages, {result['layout']}"
    _report(title, result, json_path, _INGEST_ROWS)


@app.command("e2e")
def e2e(
    vehicles: int = typer.Option(500, help="Simulated vehicles (every scenario included)."),
    days: int = typer.Option(1, help="Simulated days."),
    rate: float = typer.Option(5000.0, help="Background load during the latency phase, msgs/s."),
    json_path: Path = _JSON_OPTION,
) -> None:
    """Drain with every detector on vs off, and publish-to-alert latency under a steady load."""
    from benchmarks import e2e as bench

    settings = Settings()
    with database_url(settings) as admin:
        result = bench.run(admin_url=admin, vehicles=vehicles, days=days, rate=rate)
    _report(f"end-to-end benchmark: {result['messages']:,} messages", result, json_path)


@app.command("api")
def api(
    positions_per_car: int = typer.Option(5000, help="Fixes per car (2,000 cars; 5,000 gives 10M positions)."),
    alerts: int = typer.Option(100_000, help="Alerts in the table."),
    clients: int = typer.Option(8, help="Concurrent clients."),
    seconds: float = typer.Option(20.0, help="Seconds of each load per endpoint."),
    workers: int = typer.Option(2, min=1, help="API server processes (`lienwatch api --workers`)."),
    list_rate: float = typer.Option(200.0, help="Steady alert-list requests per second, for the service level."),
    track_rate: float = typer.Option(50.0, help="Steady track requests per second, for the service level."),
    json_path: Path = _JSON_OPTION,
) -> None:
    """p50/p99 of the alert list and a one-day track under concurrent clients, at volume."""
    from benchmarks import api as bench

    settings = Settings()
    with database_url(settings) as admin, mqtt_url(settings) as broker:
        result = bench.run(
            admin_url=admin,
            mqtt_url=broker,
            per_device=positions_per_car,
            alerts=alerts,
            clients=clients,
            seconds=seconds,
            workers=workers,
            list_rate=list_rate,
            track_rate=track_rate,
        )
    _report(f"API benchmark: {result['positions']:,} positions", result, json_path)


@app.command("scale")
def scale(
    messages: int = typer.Option(100_000, help="Messages drained at each fleet size."),
    json_path: Path = _JSON_OPTION,
) -> None:
    """Throughput and memory from 1k to 100k devices; bytes per position with and without compression."""
    from benchmarks import scale as bench

    settings = Settings()
    with database_url(settings) as admin:
        result = bench.run(admin_url=admin, messages=messages)
    console.print_json(json.dumps(result))
    _write_json(result, json_path)


@app.command("workbench")
def workbench(
    alerts: int = typer.Option(1000, help="Alerts in the collector's queue."),
    days: int = typer.Option(7, help="Days of track replayed (a wired unit reporting every 30 s)."),
    repeats: int = typer.Option(3, min=1, max=3, help="Loads of each page (3 replays fit the location-read limit)."),
    json_path: Path = _JSON_OPTION,
) -> None:
    """The workbench in headless Chromium: queue of N alerts to interactive, a D-day replay to drawn."""
    from benchmarks import workbench as bench

    settings = Settings()
    with database_url(settings) as admin, mqtt_url(settings) as broker:
        result = bench.run(admin_url=admin, mqtt_url=broker, alerts=alerts, days=days, repeats=repeats)
    _report(f"workbench benchmark: {alerts:,} alerts, {days}-day replay", result, json_path)


@app.command("scaleout")
def scaleout(
    vehicles: int = typer.Option(300, help="Simulated vehicles (every scenario included)."),
    days: int = typer.Option(1, help="Simulated days."),
    json_path: Path = _JSON_OPTION,
) -> None:
    """Drain rate of 1, 2 and 4 partitioned workers (router, NATS JetStream) beside one plain ingestor."""
    from benchmarks import scaleout as bench

    settings = Settings()
    with database_url(settings) as admin:
        result = bench.run(admin_url=admin, vehicles=vehicles, days=days)
    _report(f"scale-out benchmark: {result['messages']:,} messages", result, json_path)


@app.command("geofence")
def geofence(json_path: Path = _JSON_OPTION) -> None:
    """Fence checks per second at 1k/10k/100k fences beside brute force and PostGIS (when installed)."""
    from benchmarks import geofence as bench

    settings = Settings()
    postgis_url = settings.database_url  # PostGIS runs only against a configured server
    result = bench.run(postgis_url=postgis_url)
    bench.print_table(result)
    _write_json(result, json_path)


@app.command("judge")
def judge(
    vehicles: int = typer.Option(200, min=1),
    days: int = typer.Option(5, min=4),
    seed: int = typer.Option(7),
    json_path: Path = _JSON_OPTION,
) -> None:
    """The detectors alone (no database, no broker): fixes per second through the judge."""
    from benchmarks import judge as bench

    _report("judge replay", bench.run(vehicles=vehicles, days=days, seed=seed), json_path)


if __name__ == "__main__":
    app()
