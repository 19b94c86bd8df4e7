"""The simulated fleet lands in PostgreSQL through storage.registry; evaluate reads the alerts table."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import psycopg
import pytest
from typer.testing import CliRunner

from lienwatch.commands.simulate import app
from simulators.labels import write_labels, write_meta
from simulators.seed import seed_fleet
from simulators.simulation import SimConfig, simulate

pytestmark = pytest.mark.db

START = datetime(2026, 11, 2, tzinfo=UTC)


def test_seed_writes_vehicles_devices_loans_and_holds(migrated_db: str, topic_prefix: str) -> None:
    sim = simulate(SimConfig(vehicles=150, days=2, seed=6, start=START, id_prefix=topic_prefix))
    fleet = sim.fleet
    with psycopg.connect(migrated_db) as conn:
        assert seed_fleet(conn, fleet) == (150, len(fleet.devices()), 150)
        seed_fleet(conn, fleet)  # idempotent: upserts, no duplicates
    with psycopg.connect(migrated_db) as conn:
        like = f"{topic_prefix}-%"
        loans = conn.execute(
            "SELECT loan_id, vin, days_past_due, bound_region, assigned_collector, home_lat FROM loans"
            " WHERE loan_id LIKE %s",
            (like,),
        ).fetchall()
        devices = conn.execute(
            "SELECT device_id, kind, vin, moving_interval_s, scheduled_interval_s FROM devices WHERE device_id LIKE %s",
            (like,),
        ).fetchall()
        holds = conn.execute(
            "SELECT count(*) FROM loan_holds WHERE loan_id LIKE %s AND released_at IS NULL", (like,)
        ).fetchone()
        vins = conn.execute(
            "SELECT count(*) FROM vehicles WHERE vin = ANY(%s)", ([v.vin for v in fleet.vehicles()],)
        ).fetchone()
    assert len(loans) == 150 and vins == (150,)
    assert len(devices) == len(fleet.devices()) > 150
    by_id = {m.loan.loan_id: m.loan for m in fleet.members}
    for loan_id, vin, dpd, region, collector, home_lat in loans:
        loan = by_id[loan_id]
        assert (vin, dpd, region, collector) == (
            loan.vin,
            loan.days_past_due,
            loan.bound_region,
            loan.assigned_collector,
        )
        assert home_lat == pytest.approx(loan.home_lat)
    assert {kind for _, kind, _, _, _ in devices} == {"wired", "wireless"}
    assert holds == (sum(len(m.loan.holds) for m in fleet.members),)


def test_evaluate_scores_alerts_in_the_database(
    migrated_db: str, topic_prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = simulate(
        SimConfig(vehicles=20, days=2, seed=7, start=START, scenarios="tow,gps_jump", id_prefix=topic_prefix)
    )
    labels = tmp_path / "labels.jsonl"
    write_labels(labels, sim.labels)
    write_meta(labels, {"vehicles": 20, "days": 2, "id_prefix": topic_prefix})
    tow = next(lb for lb in sim.labels if lb.kind is not None and lb.kind.value == "tow")
    other = next(m.loan.loan_id for m in sim.fleet.members if m.scenario is None)
    opened = datetime.fromtimestamp(tow.start, UTC) + timedelta(seconds=30)
    with psycopg.connect(migrated_db) as conn:
        seed_fleet(conn, sim.fleet)
        conn.execute(
            "INSERT INTO alerts (kind, severity, loan_id, opened_at, last_seen_at) VALUES"
            " ('tow', 'high', %s, %s, %s), ('long_idle', 'info', %s, %s, %s)",
            (tow.loan_id, opened, opened, other, opened, opened),
        )
    monkeypatch.setenv("LIENWATCH_DATABASE_URL", migrated_db)
    out = tmp_path / "scores.json"
    result = CliRunner().invoke(app, ["evaluate", "--labels", str(labels), "--json", str(out)])
    assert result.exit_code == 0, result.output
    doc = orjson.loads(out.read_bytes())
    assert doc["kinds"]["tow"] == {"tp": 1, "fp": 0, "fn": 0, "precision": 1.0, "recall": 1.0}
    assert doc["kinds"]["gps_jump"] == {"tp": 0, "fp": 0, "fn": 1, "precision": None, "recall": 0.0}
    assert doc["kinds"]["long_idle"]["fp"] == 1
    assert doc["false_alerts_per_1000_vehicle_days"] == pytest.approx(25.0)  # 1 over 40 vehicle-days
    assert "false alerts per 1,000 vehicle-days: 25.00" in result.output
