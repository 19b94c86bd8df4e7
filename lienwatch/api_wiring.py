"""The API wired to the rest of the system: its ports (api/ports.py) filled in from the ingest
room, and its options from the settings. The CLI, the demo and the API's worker processes build
the app here; the API itself knows neither the settings nor the ingest room."""

from typing import Any

from fastapi import FastAPI

from api import workbench
from api.app import create_app
from api.ports import BrokerProbe, Downlink, DownlinkError, QuarantineReplay, ReplayOutcome
from api.targets import AllowList
from ingest import downlink
from ingest.decode import Limits
from ingest.replay import replay
from ingest.store import BatchStore
from lienwatch import wiring
from lienwatch.settings import Settings
from storage.database import Connection


def quarantine_replay(database_url: str, limits: Limits) -> QuarantineReplay:
    """A replay that decodes under these limits, the ingestor's, and stores through its own writer."""

    def run(conn: Connection, reason: str | None) -> ReplayOutcome:
        store = BatchStore(database_url)
        try:
            return replay(conn, store, limits, reason=reason)
        finally:
            store.close()

    return run


def mqtt_downlink(mqtt_url: str) -> Downlink:
    """Commands published on the broker (and EMQX's JT/T 808 downlink topic for a terminal)."""

    async def send(device_id: str, payload: dict[str, Any]) -> str:
        try:
            return await downlink.publish(mqtt_url, device_id, payload)
        except downlink.DownlinkError as exc:
            raise DownlinkError(str(exc)) from exc

    return send


def broker_probe(mqtt_url: str) -> BrokerProbe:
    """Readiness of the broker at this URL."""

    async def ready() -> bool:
        return await downlink.reachable(mqtt_url)

    return ready


def app_for(*, database_url: str, mqtt_url: str, limits: Limits = Limits(), **options: Any) -> FastAPI:
    """The API on this database and broker, replaying the quarantine under these limits; the
    other keyword arguments are create_app's."""
    return create_app(
        database_url=database_url,
        quarantine_replay=quarantine_replay(database_url, limits),
        downlink=mqtt_downlink(mqtt_url),
        broker_ready=broker_probe(mqtt_url),
        **options,
    )


def configured_app(settings: Settings, *, database_url: str, mqtt_url: str, **options: Any) -> FastAPI:
    """The API as configured: the ingestor's limits and the settings' options (`options` win)."""
    return app_for(
        database_url=database_url,
        mqtt_url=mqtt_url,
        limits=wiring.limits(settings),
        **(options_from(settings) | options),
    )


def from_environment() -> FastAPI:
    """The app for a worker process `lienwatch api --workers N` starts: the database and broker
    URLs come from LIENWATCH_DATABASE_URL and LIENWATCH_MQTT_URL, which the parent has resolved."""
    settings = Settings()
    if not settings.database_url or not settings.mqtt_url:
        raise RuntimeError("LIENWATCH_DATABASE_URL and LIENWATCH_MQTT_URL must be set for an API worker")
    return configured_app(settings, database_url=settings.database_url, mqtt_url=settings.mqtt_url, freeze_heap=True)


def options_from(settings: Settings) -> dict[str, Any]:
    """The app's keyword arguments that come from settings."""
    return {
        "max_body_bytes": settings.max_body_bytes,
        "max_bulk_body_bytes": settings.max_bulk_body_bytes,
        "webhook_allow": AllowList.parse(settings.webhook_allow),
        "location_reads_per_minute": settings.location_reads_per_minute,
        "auth_failures_per_minute": settings.auth_failures_per_minute,
        "metrics_token": settings.metrics_token,
        "map_tiles": workbench.Tiles.parse(settings.map_tiles, key=settings.map_tiles_key, crs=settings.map_tiles_crs),
    }
