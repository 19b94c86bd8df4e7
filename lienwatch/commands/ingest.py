"""The ingest room's commands: ingest, devices, quarantine, gateway."""

import csv
import signal
import threading
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from domain.assets import Device, Vehicle
from domain.vocabulary import RejectReason
from ingest import replay as replay_mod
from ingest import runner
from ingest.devices import CSV_FIELDS, DeviceRowError, parse_row, parse_rows
from ingest.link import BrokerAddress, LinkError
from ingest.passwords import PasswordFile, PasswordFileError, new_password
from ingest.store import BatchStore
from lienwatch import wiring
from lienwatch.services import database_url, mqtt_url
from lienwatch.settings import Settings
from storage import quarantine
from storage.database import connect
from storage.devices import register_devices
from storage.errors import StorageError
from storage.vehicles import unknown_vins, upsert_vehicles

console = Console()
devices_app = typer.Typer(help="Register trackers before they report.", no_args_is_help=True)
quarantine_app = typer.Typer(help="Inspect and replay refused messages.", no_args_is_help=True)
gateway_app = typer.Typer(help="Gateways for trackers that do not speak MQTT.", no_args_is_help=True)


def ingest(
    share_group: str = typer.Option(
        None, help="Refused: a plain shared subscription splits vehicles across detector states (see `router`)."
    ),
    client_id: str = typer.Option(None, help="MQTT client id (fixed, for the persistent session)."),
    jt808_port: int = typer.Option(
        None, help="Also accept JT/T 808 terminals on this TCP port, into the same writer and detectors."
    ),
) -> None:
    """Subscribe to tracker positions and store them, acknowledging each message after commit."""
    settings = Settings()
    if share_group:
        settings.mqtt_share_group = share_group
    if client_id:
        settings.mqtt_client_id = client_id
    if settings.mqtt_share_group:  # refused before any service is touched
        raise _fail(runner.SHARED_SUBSCRIPTION_REFUSED, 2)
    if settings.mqtt_url is None:
        settings.mqtt_protocol = "3.1.1"  # the embedded broker speaks MQTT 3.1.1
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        with database_url(settings) as db, mqtt_url(settings) as broker:
            process = wiring.ingest_process(settings, database_url=db, mqtt_url=broker, jt808=jt808_port is not None)
            # The URL may carry the broker password: show the address and user only.
            console.print(f"ingesting from {BrokerAddress.parse(broker).shown()} as {settings.mqtt_client_id!r}")
            if jt808_port is not None:
                console.print(f"and from JT/T 808 terminals on {settings.jt808_host}:{jt808_port}")
            runner.run(
                process,
                stop,
                metrics_port=settings.metrics_port,
                jt808_host=settings.jt808_host,
                jt808_port=jt808_port or 0,
                mqtt_url=broker,
            )
    except (LinkError, StorageError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc


@gateway_app.command("jt808")
def gateway_jt808(
    port: int = typer.Option(None, help="TCP port terminals connect to (default LIENWATCH_JT808_PORT, 6808)."),
    host: str = typer.Option(None, help="Address to listen on (default LIENWATCH_JT808_HOST, 0.0.0.0)."),
) -> None:
    """Accept JT/T 808 terminals over TCP; store their positions and answer each after commit."""
    from ingest.jt808 import runner as gateway_runner

    settings = Settings()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        with database_url(settings) as db:
            process = wiring.gateway_process(settings, database_url=db)
            listen_host = host or settings.jt808_host
            listen_port = settings.jt808_port if port is None else port
            console.print(f"JT/T 808 gateway on {listen_host}:{listen_port}")
            gateway_runner.run(process, stop, host=listen_host, port=listen_port, mqtt_url=settings.mqtt_url)
    except (OSError, StorageError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc


def _save(settings: Settings, devices: list[Device]) -> None:
    with database_url(settings) as db, connect(db, autocommit=True) as conn, conn.transaction():
        vins = {d.vin for d in devices if d.vin}
        upsert_vehicles(conn, [Vehicle(vin) for vin in sorted(vins)])
        register_devices(conn, devices)


def _fail(message: str, code: int = 1) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@devices_app.command("register")
def register(
    device_id: str = typer.Argument(
        ..., help="The id the tracker reports under: trackers/{id}/position, or a JT/T 808 terminal's phone number."
    ),
    kind: str = typer.Option(..., help="wired or wireless."),
    vin: str = typer.Option(None, help="VIN of a registered vehicle carrying it (the loan system creates vehicles)."),
    interval: int = typer.Option(None, help="Expected report interval in seconds (schedule for wireless)."),
    rotate: bool = typer.Option(False, "--new-password", help="Replace the tracker's broker password if it has one."),
) -> None:
    """Register (or update) one device; with LIENWATCH_MQTT_PASSWORD_FILE, issue its broker password."""
    row: dict[str, str | None] = {"device_id": device_id, "kind": kind, "vin": vin}
    row["scheduled_interval_s" if kind == "wireless" else "moving_interval_s"] = str(interval) if interval else None
    try:
        device = parse_row(row)
    except DeviceRowError as exc:
        raise _fail(str(exc), 2) from exc
    settings = Settings()
    try:
        with database_url(settings) as db, connect(db, autocommit=True) as conn, conn.transaction():
            # As the API refuses it: a device is fitted to a vehicle the loan system has sent.
            if device.vin and unknown_vins(conn, [device.vin]):
                raise _fail(f"vin: vehicle {device.vin} does not exist", 2)
            register_devices(conn, [device])
    except StorageError as exc:
        raise _fail(str(exc)) from exc
    console.print(f"registered {device.device_id} ({device.kind.value})", highlight=False)
    if device_id.isdigit() and len(device_id) == 11:
        console.print(
            f"note: a JT/T 808 terminal sends its phone as 12 digits (2013) or 20 (2019), zero-padded: "
            f"register 0{device_id} if this is one"
        )
    if settings.mqtt_password_file is None:
        console.print("no LIENWATCH_MQTT_PASSWORD_FILE set: no broker password issued", highlight=False)
        return
    passwords = PasswordFile(settings.mqtt_password_file)
    try:
        if device.device_id in passwords.entries() and not rotate:
            console.print(f"{device.device_id} keeps its broker password (--new-password replaces it)", highlight=False)
            return
        password = new_password_for(passwords, device.device_id)
    except PasswordFileError as exc:
        raise _fail(str(exc)) from exc
    console.print(
        f"broker password for {device.device_id} (shown once; the broker reads it after a SIGHUP):", highlight=False
    )
    typer.echo(password)


def new_password_for(passwords: PasswordFile, device_id: str) -> str:
    """A fresh password for the tracker, its hash written to the password file."""
    password = new_password()
    passwords.set(device_id, password)
    return password


@devices_app.command("import")
def import_csv(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV with a header row."),
) -> None:
    """Register devices from a CSV; columns as in `ingest.devices.CSV_FIELDS`, bad rows named by line."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = {"device_id", "kind"} - set(reader.fieldnames or [])
            if missing:
                raise _fail(f"header lacks {', '.join(sorted(missing))}; expected {','.join(CSV_FIELDS)}", 2)
            good, problems = parse_rows(reader)
    except UnicodeDecodeError as exc:
        raise _fail(f"{path}: not a UTF-8 text file (a CSV with a header row is expected)", 2) from exc
    except csv.Error as exc:
        raise _fail(f"{path}: not readable as CSV ({exc})", 2) from exc
    if good:
        _save(Settings(), good)
    for problem in problems:
        console.print(f"line {problem.line}: {problem.error}")
    console.print(f"imported {len(good)} device(s); {len(problems)} bad row(s) skipped")
    if problems:
        raise typer.Exit(1)


def _check_reason(reason: str | None) -> None:
    """A reason that is no reject code would list nothing and look like an empty quarantine."""
    if reason is not None and reason not in {r.value for r in RejectReason}:
        raise _fail(f"--reason: {reason!r} is not a reason code; one of {', '.join(r.value for r in RejectReason)}", 2)


@quarantine_app.command("list")
def list_entries(
    reason: str = typer.Option(None, help="Only this reason code."),
    limit: int = typer.Option(20, help="How many entries to show."),
) -> None:
    """Counts by reason, then the oldest pending entries."""
    _check_reason(reason)
    with database_url(Settings()) as db, connect(db, autocommit=True) as conn:
        summary = quarantine.counts(conn)
        entries = quarantine.pending(conn, reason=reason, limit=limit)
    table = Table("reason", "pending", "replayed", title="quarantine")
    for r, pending, done in summary:
        table.add_row(r, str(pending), str(done))
    console.print(table)
    detail = Table("id", "received", "topic", "reason", "detail")
    for e in entries:
        detail.add_row(
            str(e.quarantine_id),
            f"{e.received_at:%Y-%m-%d %H:%M:%S}",
            e.topic,
            e.reason,
            (e.detail or "")[:80],
        )
    console.print(detail)


@quarantine_app.command("replay")
def replay(
    reason: str = typer.Option(None, help="Only entries of this reason, e.g. unknown_device."),
) -> None:
    """Re-decode pending entries and store the ones that now pass (e.g. device since registered)."""
    _check_reason(reason)
    settings = Settings()
    with database_url(settings) as db, connect(db, autocommit=True) as conn:
        store = BatchStore(db)
        try:
            report = replay_mod.replay(conn, store, wiring.limits(settings), reason=reason)
        finally:
            store.close()
    console.print(f"replayed {report.replayed} message(s), {report.positions_stored} new position(s)")
    for r, n in sorted(report.still_refused.items()):
        console.print(f"still refused: {r} x {n}")
