"""Scheduled jobs: work that needs the absence of data or the passing of time, on wall time.

- positions maintenance (partitions ahead / expired dropped, or TimescaleDB policies), hourly;
- absence-of-data sweeps (offline, long idle) over every device's stored detector state;
- the relocation job (stay points, home cluster recomputed, nights away), every 6 hours.

In simulation and replay the ingestor runs the same sweeps itself on the event-time watermark
(LIENWATCH_SWEEP_CLOCK=watermark) instead, so they keep pace with simulated time.
"""

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.blocking import BlockingScheduler

from ingest.detectors import DetectorSink
from lienwatch.settings import Settings
from storage import maintenance
from storage.database import connect

log = logging.getLogger(__name__)


def maintain_positions(settings: Settings, database_url: str) -> maintenance.MaintenanceReport:
    """One maintenance pass over the positions store."""
    with connect(database_url, autocommit=True) as conn:
        report = maintenance.maintain(
            conn,
            today=datetime.now(UTC).date(),
            retention_days=settings.retention_days,
            ahead_days=settings.partitions_ahead_days,
            compress_after_days=settings.compress_after_days,
        )
    log.info("maintenance (%s): %d created, %d dropped", report.layout, len(report.created), len(report.dropped))
    return report


def sweep_absence(settings: Settings, database_url: str) -> int:
    """One absence-of-data sweep (offline, long idle) at wall time; the number of signals."""
    sink = DetectorSink(database_url=database_url, timezone=settings.timezone, policy=settings.threshold_policy())
    now = datetime.now(UTC)
    with connect(database_url, autocommit=True) as conn:
        found = sink.sweep(conn, now)  # loads every device's state from device_state
    log.info("sweep at %s: %d signal(s)", now.isoformat(), found)
    return found


def run_relocation(settings: Settings, database_url: str) -> int:
    """The absence sweep, then the relocation job, at wall time; the number of signals."""
    sink = DetectorSink(database_url=database_url, timezone=settings.timezone, policy=settings.threshold_policy())
    now = datetime.now(UTC)
    with connect(database_url, autocommit=True) as conn:
        found = sink.sweep(conn, now)
        found += sink.relocation_sweep(conn, now)
    log.info("relocation run at %s: %d signal(s)", now.isoformat(), found)
    return found


def build(settings: Settings, database_url: str) -> BlockingScheduler:
    """A scheduler with every job registered (not started)."""
    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(
        maintain_positions,
        "interval",
        hours=1,
        args=(settings, database_url),
        id="positions-maintenance",
        next_run_time=datetime.now(UTC),
        coalesce=True,
        max_instances=1,
    )
    if settings.nats_url:
        # Partitioned workers sweep the vehicles each owns: a sweep here would be a second one.
        log.info("LIENWATCH_NATS_URL is set: the workers run the sweeps; this scheduler only maintains")
        return scheduler
    scheduler.add_job(
        sweep_absence,
        "interval",
        seconds=settings.sweep_every_s,
        args=(settings, database_url),
        id="absence-sweep",
        coalesce=True,
        max_instances=1,
    )
    scheduler.add_job(
        run_relocation,
        "interval",
        hours=6,
        args=(settings, database_url),
        id="relocation",
        next_run_time=datetime.now(UTC),
        coalesce=True,
        max_instances=1,
    )
    return scheduler
