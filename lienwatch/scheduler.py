"""Scheduled jobs: work that needs the absence of data or the passing of time.

Today: positions maintenance (partitions ahead / expired dropped, or TimescaleDB policies).
Absence-of-data sweeps (offline, long idle) and home recompute join here as they land.
"""

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.blocking import BlockingScheduler

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
    return scheduler
