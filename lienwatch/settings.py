"""Every setting lienwatch reads, from LIENWATCH_* environment variables, in one place."""

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from alerts.thresholds import Policy, ThresholdError


class Settings(BaseSettings):
    """Built once at the composition root (CLI command or app lifespan) and passed down."""

    model_config = SettingsConfigDict(env_prefix="LIENWATCH_", extra="ignore")

    # Unset means: start the embedded PostgreSQL / MQTT broker under data_dir (demo mode).
    database_url: str | None = None
    # The role that owns the schema, for `lienwatch db migrate / status / maintain`; the services
    # connect with database_url as a member of lienwatch_service (migration 0009). Unset: the same.
    owner_database_url: str | None = None
    mqtt_url: str | None = None
    data_dir: Path = Path("var")

    # Storage
    timescale: Literal["auto", "on", "off"] = "auto"
    retention_days: int = Field(180, ge=1)
    partitions_ahead_days: int = Field(7, ge=1)
    compress_after_days: int = Field(7, ge=1)

    # Ingest
    mqtt_client_id: str = "lienwatch-ingest"
    mqtt_protocol: Literal["5", "3.1.1"] = "5"
    mqtt_share_group: str | None = None
    mqtt_receive_maximum: int = Field(20000, ge=1, le=65535)
    batch_size: int = Field(5000, ge=1)
    flush_ms: int = Field(200, ge=1)
    queue_max: int = Field(20000, ge=1)
    max_payload_bytes: int = Field(65536, ge=256)
    future_tolerance_s: int = Field(600, ge=0)
    metrics_port: int = Field(9108, ge=0, le=65535)
    # The broker's password file: `lienwatch devices register` writes each tracker's entry here
    # (mosquitto_passwd's format) and prints its password once. Unset: no credentials issued.
    mqtt_password_file: Path | None = None

    # Scale-out (`lienwatch router` / `lienwatch worker`): positions partitioned by vehicle in a
    # NATS JetStream stream; each worker owns partitions under a lease in NATS KV. The partition
    # count is fixed for the life of the stream (workers and router refuse a different one).
    nats_url: str | None = None
    nats_stream: str = "LIENWATCH_POS"
    nats_replicas: int = Field(1, ge=1, le=5)
    partitions: int = Field(16, ge=1, le=1024)
    worker_id: str | None = None
    lease_s: float = Field(10.0, ge=1.0)

    # Detectors and their absence-of-data sweeps. The sweeps' clock is wall time in production
    # and the event-time watermark (latest fix seen minus the allowed lateness) in simulation.
    detectors: bool = True
    sweep_clock: Literal["wall", "watermark"] = "wall"
    allowed_lateness_s: float = Field(300.0, ge=0)
    sweep_every_s: float = Field(300.0, gt=0)
    # The lender's thresholds (TOML: a [default] table and [portfolios.<name>] tables of
    # alerts.thresholds.Thresholds fields); unset: DESIGN.md's defaults for every loan.
    thresholds_file: Path | None = None

    # JT/T 808 gateway (`lienwatch gateway jt808`). The auth secret keys the codes handed to
    # registered terminals; unset, each process makes its own and terminals register again after
    # a restart. The removal bit is the vendor's, where it reports tracker removal at all.
    jt808_host: str = "0.0.0.0"
    jt808_port: int = Field(6808, ge=0, le=65535)
    jt808_auth_secret: SecretStr | None = None
    jt808_require_auth: bool = True
    jt808_removal_alarm_bit: int | None = Field(None, ge=0, le=31)
    jt808_idle_timeout_s: float = Field(600.0, gt=0)
    # HTTP API. Bodies over the limit are refused with 413 before authentication; the bulk
    # imports (loans, risk zones) have a limit of their own.
    max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024)
    max_bulk_body_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    # Webhooks go to public addresses only; this comma-separated list of host names, addresses
    # and networks (e.g. `hooks.internal,10.1.0.0/16`) allows internal ones.
    webhook_allow: str = ""
    # Bearer tokens expire this many days after they are issued (`lienwatch users rotate` issues anew).
    token_ttl_days: int = Field(90, ge=1, le=3650)
    # Per server process: location reads (vehicle status, track, alert evidence) per principal,
    # and failed authentications per client address, each per minute; beyond them 429.
    location_reads_per_minute: int = Field(120, ge=1)
    auth_failures_per_minute: int = Field(10, ge=1)
    # The API's /metrics from other hosts than loopback (Authorization: Bearer <token>); unset: loopback only.
    metrics_token: str | None = Field(None, min_length=16)
    # The workbench's map tiles: osm, amap (GCJ-02, the page shifts its points), tianditu (with
    # its key), none (a plain background), or a URL template with {z}/{x}/{y} drawn in map_tiles_crs.
    map_tiles: str = "osm"
    map_tiles_key: str | None = None
    map_tiles_crs: Literal["wgs84", "gcj02"] = "wgs84"

    # Local time for overnight stays, active hours and the like.
    timezone: str = "Asia/Shanghai"

    def threshold_policy(self) -> Policy:
        """The detectors' thresholds, read once from thresholds_file (SettingsError naming the problem)."""
        if self.thresholds_file is None:
            return Policy()
        try:
            document = tomllib.loads(self.thresholds_file.read_text(encoding="utf-8"))
            return Policy.from_document(document)
        except OSError as exc:
            raise SettingsError(f"THRESHOLDS_FILE: cannot read {self.thresholds_file}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"THRESHOLDS_FILE: {self.thresholds_file} is not TOML: {exc}") from exc
        except ThresholdError as exc:
            raise SettingsError(f"THRESHOLDS_FILE: {self.thresholds_file}: {exc}") from exc


class SettingsError(ValueError):
    """A setting that cannot be used, with the setting's name and the reason."""
