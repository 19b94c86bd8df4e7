"""The detectors resume after a restart: state comes back from device_state."""

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from shapely.geometry import Point

from domain.assets import Device, Loan, Vehicle
from domain.ids import DeviceId, FenceId, LoanId, Vin
from domain.position import Position
from domain.vocabulary import DeviceKind, FenceKind
from geofence.fence import Fence
from ingest.detectors import DetectorSink
from storage import fences, migrate
from storage.devices import register_devices
from storage.loans import upsert_loans
from storage.positions import PositionWriter
from storage.vehicles import upsert_vehicles

pytestmark = pytest.mark.db

SHANGHAI = (31.2304, 121.4737)


def _fix(t: datetime, lat: float, lon: float) -> Position:
    return Position(DeviceId("rs-1"), t, lat, lon, received_at=t, accuracy_m=10.0, speed_kmh=40.0, ignition=True)


def _judge(url: str, batch: list[Position]) -> None:
    """One fresh pipeline (as after a restart) judging one batch, committed."""
    pipeline = DetectorSink(database_url=url)
    with psycopg.connect(url, autocommit=True) as conn:
        writer = PositionWriter(conn, "native")
        writer.ensure_days(batch)
        with conn.transaction():
            new = writer.insert(batch)
            after = pipeline.evaluate(conn, new)
        after()


def test_a_region_exit_after_a_restart_is_still_seen(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        migrate.migrate(conn, timescale="off")
        upsert_vehicles(conn, [Vehicle(Vin("VRS1"))])
        register_devices(conn, [Device(DeviceId("rs-1"), DeviceKind.WIRED, Vin("VRS1"))])
        upsert_loans(conn, [Loan(LoanId("L-RS1"), Vin("VRS1"), days_past_due=40, outstanding_balance=Decimal(50000))])
        region = Fence(
            FenceId(0), "Shanghai 30 km", FenceKind.ALLOWED_REGION, Point(SHANGHAI[1], SHANGHAI[0]), radius_m=30_000.0
        )
        fences.insert_fence(conn, dataclasses.replace(region, is_global=False, loan_ids=frozenset({LoanId("L-RS1")})))
    t0 = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    # Before the restart: the car drives inside its region (11 min: long enough to be in it).
    _judge(fresh_db, [_fix(t0 + timedelta(minutes=i), SHANGHAI[0] + i * 0.001, SHANGHAI[1]) for i in range(12)])
    # After it (a new pipeline, state from the database): the car leaves the region, 60 km north,
    # and is out for the 10 min a region exit takes.
    _judge(fresh_db, [_fix(t0 + timedelta(hours=1, minutes=i), SHANGHAI[0] + 0.55, SHANGHAI[1]) for i in range(11)])
    with psycopg.connect(fresh_db) as conn:
        rows = conn.execute("SELECT kind, loan_id FROM alerts").fetchall()
    assert rows == [("region_exit", "L-RS1")]
