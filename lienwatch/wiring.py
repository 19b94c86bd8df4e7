"""Settings translated into the ingest room's plain configs, and its processes built from them.

The only place that knows both: `ingest` takes frozen configs and keyword arguments, the commands,
the fleet run and the demo build their processes here from one Settings.
"""

from datetime import timedelta

from ingest.decode import Limits
from ingest.jt808 import runner as gateway_runner
from ingest.jt808.server import GatewayConfig
from ingest.pipeline import NoDetectors, PositionSink
from ingest.runner import IngestConfig, IngestProcess, WriterConfig
from ingest.runner import build as build_ingest
from lienwatch.settings import Settings


def limits(settings: Settings) -> Limits:
    """The decoder's limits as configured (the writer's, the router's and the quarantine replay's)."""
    return Limits(
        max_payload_bytes=settings.max_payload_bytes,
        future_tolerance=timedelta(seconds=settings.future_tolerance_s),
        retention=timedelta(days=settings.retention_days),
        removal_alarm_bit=settings.jt808_removal_alarm_bit,
    )


def detector_sink(settings: Settings, database_url: str) -> PositionSink:
    """The detectors as configured (or none), for any process that stores positions."""
    if not settings.detectors:
        return NoDetectors()
    from alerts.clock import Watermark
    from ingest.detectors import DetectorSink

    # On wall time the scheduler sweeps; in simulation and replay the ingestor does, as the data moves.
    watermark = Watermark(timedelta(seconds=settings.allowed_lateness_s))
    return DetectorSink(
        database_url=database_url,
        watermark=watermark if settings.sweep_clock == "watermark" else None,
        sweep_every_s=settings.sweep_every_s,
        timezone=settings.timezone,
        policy=settings.threshold_policy(),
    )


def writer_config(settings: Settings) -> WriterConfig:
    """The batch writer as configured."""
    return WriterConfig(
        limits=limits(settings),
        batch_size=settings.batch_size,
        flush_s=settings.flush_ms / 1000,
        queue_max=settings.queue_max,
    )


def ingest_config(settings: Settings) -> IngestConfig:
    """An ingest process's MQTT session and writer as configured."""
    return IngestConfig(
        client_id=settings.mqtt_client_id,
        writer=writer_config(settings),
        protocol=settings.mqtt_protocol,
        receive_maximum=settings.mqtt_receive_maximum,
        share_group=settings.mqtt_share_group,
    )


def gateway_config(settings: Settings) -> GatewayConfig:
    """The JT/T 808 gateway as configured."""
    secret = settings.jt808_auth_secret
    return GatewayConfig(
        secret=None if secret is None else secret.get_secret_value().encode(),
        require_auth=settings.jt808_require_auth,
        idle_timeout_s=settings.jt808_idle_timeout_s,
    )


def ingest_process(
    settings: Settings,
    *,
    database_url: str,
    mqtt_url: str,
    jt808: bool = False,
) -> IngestProcess:
    """One ingest process as configured (nothing is started); with `jt808`, the gateway beside it."""
    return build_ingest(
        ingest_config(settings),
        database_url=database_url,
        mqtt_url=mqtt_url,
        sink=detector_sink(settings, database_url),
        jt808=gateway_config(settings) if jt808 else None,
    )


def gateway_process(settings: Settings, *, database_url: str) -> gateway_runner.GatewayProcess:
    """The JT/T 808 gateway and its own writer as configured (nothing is started)."""
    return gateway_runner.build(
        gateway_config(settings),
        writer_config(settings),
        database_url=database_url,
        sink=detector_sink(settings, database_url),
    )
