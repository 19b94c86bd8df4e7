"""The simulator drives a fleet over JT/T 808 through the gateway: every report answered after
commit is stored, and the fleet's power-cut scenario raises its alert as it does over MQTT."""

import asyncio
from datetime import UTC, datetime

import psycopg
import pytest

from simulators.jt808 import drive, phone_of, seed_terminals
from simulators.seed import seed_fleet
from simulators.simulation import SimConfig, default_start, simulate
from tests.integration.jt808_harness import RunningGateway
from tests.support.ingest_harness import count

pytestmark = [pytest.mark.db, pytest.mark.slow]


def test_a_simulated_fleet_over_jt808_is_stored_and_alerted(ingest_db: str) -> None:
    sim = simulate(SimConfig(4, 2, 11, default_start(2, datetime.now(UTC)), "power_cut", id_prefix="jt"))
    with psycopg.connect(ingest_db, autocommit=True) as conn:
        seed_fleet(conn, sim.fleet)
        seed_terminals(conn, sim.fleet.devices())
    with RunningGateway(ingest_db, sweep_clock="watermark") as gateway:
        report = asyncio.run(drive("127.0.0.1", gateway.port, sim.messages()))
    assert report.sent == report.acked == sim.message_count() and report.skipped == 0
    phones = [phone_of(d.device_id) for d in sim.fleet.devices()]
    stored = count(ingest_db, "SELECT count(*) FROM positions WHERE device_id = ANY(%s)", phones)
    assert stored == len(sim.fixes)
    assert count(ingest_db, "SELECT count(*) FROM alerts WHERE kind = 'power_cut'") >= 1
