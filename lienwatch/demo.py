"""`lienwatch demo`: a simulated fleet through the whole pipeline, with the API serving its alerts.

After the fleet is processed the demo keeps serving: the API, the JT/T 808 gateway and a live
ingestor, so a position published to the broker then becomes a stored position (and its
alerts) as in production. SIGTERM stops it as Ctrl-C does, so the embedded PostgreSQL is shut
down rather than left running without its parent.
"""

import contextlib
import json
import secrets
import signal
import socket
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import timedelta
from types import FrameType
from typing import Any

import uvicorn
from rich.console import Console
from rich.table import Table

from ingest.jt808 import runner as jt808
from ingest.link import BrokerAddress
from lienwatch import fleetrun, wiring
from lienwatch.api_wiring import configured_app
from lienwatch.services import database_url, mqtt_url
from lienwatch.settings import Settings
from storage import portfolio, users
from storage.database import connect

console = Console()


class PortTaken(RuntimeError):
    """A port the demo needs is already in use."""


def check_ports(host: str, ports: dict[str, int]) -> None:
    """Raise PortTaken naming the first port (by its option) that cannot be listened on now.

    Checked before the embedded PostgreSQL, the migrations and the fleet run, which take tens of
    seconds: uvicorn would otherwise find the API port taken only after all of them. The probe
    sets SO_REUSEADDR as uvicorn does, so a port left in TIME_WAIT is not taken for a busy one."""
    for option, port in ports.items():
        if not port:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
                probe.listen(1)
            except OSError as exc:
                raise PortTaken(f"port {port} on {host} ({option}) is taken: {exc.strerror}") from exc


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, through the blocks that stop the embedded services (its default
    action ends the process at once and leaves the embedded PostgreSQL running)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _live_ingest(settings: Settings, db: str, broker: str) -> tuple[threading.Thread, threading.Event]:
    """An ingestor with detectors on wall time, for positions published after the fleet run."""
    live = settings.model_copy(update={"detectors": True, "mqtt_client_id": f"lienwatch-demo-{uuid.uuid4().hex[:8]}"})
    _, thread, halt = fleetrun.start_ingest(live, db, broker, name="live")
    return thread, halt


def _serve(app: Any, host: str, port: int) -> uvicorn.Server:
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on"))
    threading.Thread(target=server.run, name="api", daemon=True).start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the API did not start on {host}:{port}")
        time.sleep(0.05)
    return server


def _get(url: str, token: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _gateway(
    settings: Settings, db: str, broker: str, host: str, port: int
) -> tuple[jt808.GatewayProcess, threading.Event]:
    """The JT/T 808 gateway beside the API, for real terminals pointed at the demo."""
    process = wiring.gateway_process(settings, database_url=db)
    stop = threading.Event()
    options = {"host": host, "port": port, "mqtt_url": broker}
    threading.Thread(target=jt808.run, args=(process, stop), kwargs=options, name="jt808", daemon=True).start()
    return process, stop


def _workbench_sign_in(db: str, base: str, ttl: timedelta) -> None:
    """Print the workbench's address and a token of the collector with the most alerts."""
    with connect(db, autocommit=True) as conn:
        name = portfolio.busiest_collector(conn)
        if name is None:
            console.print(f"workbench: {base}/workbench/ (no collector has alerts; sign in with the admin token)")
            return
        if users.get_user(conn, name) is None:
            token = users.create_user(conn, name, "collector", ttl=ttl)
        else:
            token = users.issue_token(conn, name, ttl=ttl)
    console.print(f"workbench: [bold]{base}/workbench/[/bold]")
    console.print(f"  sign in as collector {name} with token [bold]{token}[/bold]")


def _fleet(
    settings: Settings, db: str, broker: str, base: str, token: str, vehicles: int, days: int, seed: int
) -> None:
    """The simulated fleet through MQTT, ingest and detectors; then the alert queue's first page."""
    console.print(f"simulating {vehicles} vehicles over {days} days (seed {seed}) through MQTT ...")
    run = fleetrun.run(settings, database_url=db, mqtt_url=broker, vehicles=vehicles, days=days, seed_value=seed)
    console.print(f"published {run.published:,} messages in {run.publish_s:.0f} s; stored {run.stored:,} positions")
    page = _get(f"{base}/api/v1/alerts?limit=100", token)
    items = page.get("items", page) if isinstance(page, dict) else page
    table = Table("id", "kind", "severity", "loan", "bucket", "opened", title="open alerts (by priority)")
    for alert in items[:40]:
        table.add_row(
            str(alert.get("alert_id", alert.get("id"))),
            alert["kind"],
            alert["severity"],
            alert.get("loan_id", ""),
            str(alert.get("bucket", "")),
            str(alert.get("opened_at", ""))[:19],
        )
    console.print(table)
    console.print(f"{len(items)} alert(s) on the first page of {base}/api/v1/alerts")


def demo(
    *,
    vehicles: int,
    days: int,
    seed: int,
    host: str,
    port: int,
    exit_after: float | None,
    jt808_port: int = 6808,
    broker_port: int = 0,
) -> None:
    """Run a simulated fleet through ingest, detectors and alerts, and serve them on the API."""
    settings = Settings()
    ports = {"--port": port}
    if settings.mqtt_url is None:
        settings.mqtt_protocol = "3.1.1"  # the embedded broker speaks MQTT 3.1.1
        ports["--broker-port"] = broker_port
    check_ports(host, ports)
    with _sigterm_as_interrupt():
        _run(settings, vehicles, days, seed, host, port, exit_after, jt808_port, broker_port or None)


def _run(
    settings: Settings,
    vehicles: int,
    days: int,
    seed: int,
    host: str,
    port: int,
    exit_after: float | None,
    jt808_port: int,
    broker_port: int | None,
) -> None:
    with database_url(settings) as db, mqtt_url(settings, embedded_port=broker_port) as broker:
        console.print(
            f"database: {'configured' if settings.database_url else 'embedded, in ' + str(settings.data_dir)}"
        )
        shown = BrokerAddress.parse(broker).shown()  # never the password
        console.print(f"broker:   {shown}{'' if settings.mqtt_url else ' (embedded)'}")
        fleetrun.prepare(db, settings)
        with connect(db, autocommit=True) as conn:
            token = users.create_user(
                conn, f"demo-admin-{secrets.token_hex(3)}", "admin", ttl=timedelta(days=settings.token_ttl_days)
            )
        server = _serve(configured_app(settings, database_url=db, mqtt_url=broker), host, port)
        base = f"http://{host}:{port}"
        console.print(f"API:      {base}/docs")
        console.print(f"admin token: [bold]{token}[/bold]")
        console.print(f'try:      curl -H "Authorization: Bearer {token}" {base}/api/v1/alerts')
        gateway, gateway_stop = _gateway(settings, db, broker, host, jt808_port)
        live: tuple[threading.Thread, threading.Event] | None = None
        try:
            if gateway.ready.wait(10):
                joined = "a terminal gets in once `lienwatch devices register <phone>` ran"
                console.print(f"JT/T 808: {host}:{gateway.port} ({joined})")
            else:
                console.print(f"[yellow]JT/T 808 gateway not started[/yellow] (is port {jt808_port} taken?)")
            _fleet(settings, db, broker, base, token, vehicles, days, seed)
            _workbench_sign_in(db, base, timedelta(days=settings.token_ttl_days))
            if exit_after == 0:
                return
            live = _live_ingest(settings, db, broker)
            console.print(f"ingesting live: positions published to {shown} are stored and judged")
            if exit_after is not None:
                time.sleep(exit_after)
            else:
                console.print("serving; Ctrl-C to stop")
                while True:
                    time.sleep(1)
        except KeyboardInterrupt:
            console.print("stopping")
        finally:
            if live is not None:
                live[1].set()
                live[0].join(30)
            gateway_stop.set()
            server.should_exit = True
            time.sleep(0.5)
