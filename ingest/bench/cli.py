"""`lienwatch bench ingest`: prints the table and optionally writes the JSON."""

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from ingest.bench import run as bench_run
from lienwatch.services import database_url
from lienwatch.settings import Settings

console = Console()

_ROWS = [
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


def ingest(
    devices: int = typer.Option(2000, help="Simulated trackers."),
    per_device: int = typer.Option(50, help="Fixes per tracker in the backlog (messages = devices x this)."),
    live_seconds: float = typer.Option(10.0, help="How long publishers run in the live phase."),
    publishers: int = typer.Option(2, help="Publisher processes."),
    json_path: Path = typer.Option(None, "--json", help="Also write the figures here as JSON."),
) -> None:
    """Measure ingest drain and live rates beside bare aiomqtt, a naive ingestor and raw COPY."""
    settings = Settings()
    with database_url(settings) as admin:
        result = bench_run.run(
            admin_url=admin,
            devices=devices,
            per_device=per_device,
            live_seconds=live_seconds,
            publishers=publishers,
        )
    table = Table("measure", "value", title=f"ingest benchmark: {result['messages']:,} messages, {result['layout']}")
    for key, label in _ROWS:
        value = result[key]
        table.add_row(label, f"{value:,}" if isinstance(value, int) else str(value))
    console.print(table)
    if json_path:
        json_path.write_text(json.dumps(result, indent=2) + "\n")
        console.print(f"wrote {json_path}")
