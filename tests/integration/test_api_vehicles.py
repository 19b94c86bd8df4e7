"""Vehicles under the privacy rules: precise only when delinquent, assigned or under a tamper
check; coarse otherwise; every location read audited with its purpose."""

import contextlib
import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from alerts import absence, state_codec
from alerts.motion import DeviceState
from alerts.thresholds import Thresholds
from domain.assets import Device
from domain.ids import DeviceId
from domain.vocabulary import DeviceKind
from lienwatch.api_wiring import app_for
from storage import detector_state, portfolio
from storage.errors import MigrationError
from tests.support.api_harness import (
    NOW,
    add_alert,
    add_device,
    add_loan,
    add_positions,
    add_user,
    audit_rows,
    auth,
    own_database,
)

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def db(pg_available: None) -> Iterator[str]:
    with own_database() as url:
        yield url


SHANGHAI = (31.230416, 121.473701)


@pytest.fixture(scope="module")
def client(db: str, mqtt_url: str) -> Iterator[TestClient]:
    with TestClient(app_for(database_url=db, mqtt_url=mqtt_url, webhook_interval_s=None)) as c:
        yield c


@pytest.fixture
def collector(db: str) -> tuple[str, str]:
    return add_user(db, "collector")


def _car(db: str, *, dpd: int, collector: str, hours: int = 1, every_s: int = 60) -> tuple[str, str, str]:
    loan_id, vin = add_loan(db, dpd=dpd, collector=collector)
    device = add_device(db, vin)
    start = NOW - timedelta(hours=hours)
    fixes = [
        (start + timedelta(seconds=every_s * i), SHANGHAI[0] + i * 1e-5, SHANGHAI[1])
        for i in range(hours * 3600 // every_s)
    ]
    add_positions(db, device, fixes)
    return loan_id, vin, device


def _track(client: TestClient, token: str, vin: str, hours: float, **extra: Any) -> Any:
    params = {
        "start": (NOW - timedelta(hours=hours)).isoformat(),
        "end": (NOW + timedelta(minutes=1)).isoformat(),
        "purpose": "locate collateral for M2 recovery",
    } | extra
    return client.get(f"/api/v1/vehicles/{vin}/track", params=params, headers=auth(token))


def test_collector_cannot_read_the_track_of_a_current_loan_and_the_refusal_is_audited(
    client: TestClient, db: str, collector: tuple[str, str]
) -> None:
    name, token = collector
    _, vin, _ = _car(db, dpd=0, collector=name)
    response = _track(client, token, vin, 1)
    assert response.status_code == 403
    assert response.json()["type"].endswith("/location-restricted")
    assert "current" in response.json()["detail"]
    rows = audit_rows(db, actor=name)
    assert [(r[0], r[2]) for r in rows] == [("track_read_refused", vin)]


def test_current_loan_status_is_coarse_and_audited(client: TestClient, db: str, collector: tuple[str, str]) -> None:
    name, token = collector
    _, vin, device = _car(db, dpd=0, collector=name)
    body = client.get(f"/api/v1/vehicles/{vin}", params={"purpose": "weekly review"}, headers=auth(token)).json()
    assert body["precise_location"] is False
    (only,) = body["devices"]
    assert only["device_id"] == device and only["online"] is True
    assert (only["lat"], only["lon"]) == (31.2, 121.5)
    assert "speed_kmh" not in only
    action, subject_type, subject_id, purpose, detail = audit_rows(db, actor=name)[-1]
    assert (action, subject_type, subject_id, purpose) == ("location_read", "vehicle", vin, "weekly review")
    assert detail["precise"] is False


def test_every_track_read_of_a_delinquent_loan_is_audited_with_its_purpose(
    client: TestClient, db: str, collector: tuple[str, str]
) -> None:
    name, token = collector
    loan_id, vin, device = _car(db, dpd=45, collector=name)
    first = _track(client, token, vin, 1)
    second = _track(client, token, vin, 1, purpose="second look before the field visit")
    assert first.status_code == second.status_code == 200
    points = first.json()["points"]
    assert first.json()["bin_s"] is None and len(points) == 60
    assert points[0]["device_id"] == device and points[0]["lat"] == pytest.approx(SHANGHAI[0])
    rows = audit_rows(db, actor=name, action="track_read")
    assert [(r[2], r[3]) for r in rows] == [
        (vin, "locate collateral for M2 recovery"),
        (vin, "second look before the field visit"),
    ]
    assert rows[0][4]["loan_id"] == loan_id and rows[0][4]["points"] == 60


def test_long_tracks_are_downsampled(client: TestClient, db: str, collector: tuple[str, str]) -> None:
    name, token = collector
    _, vin, _ = _car(db, dpd=10, collector=name, hours=30, every_s=30)
    body = _track(client, token, vin, 30).json()
    assert body["bin_s"] == 60  # 30 h / 2000 points, rounded up to a whole minute
    points = body["points"]
    assert len(points) in (30 * 60, 30 * 60 + 1)  # one per whole minute with fixes in it
    assert {p["fixes"] for p in points[1:-1]} == {2}  # a fix every 30 s
    assert sum(p["fixes"] for p in points) == 30 * 120
    assert all(p["ts"].endswith(":00Z") for p in points)  # on the minute grid


def test_a_long_track_that_fits_is_served_fix_by_fix(client: TestClient, db: str, collector: tuple[str, str]) -> None:
    name, token = collector
    _, vin, _ = _car(db, dpd=10, collector=name, hours=30, every_s=300)
    body = _track(client, token, vin, 30).json()
    assert body["bin_s"] is None
    assert len(body["points"]) == 30 * 12 and {p["fixes"] for p in body["points"]} == {1}
    assert [p["ts"] for p in body["points"]] == sorted(p["ts"] for p in body["points"])


def test_csv_export_is_audited_as_an_export(client: TestClient, db: str, collector: tuple[str, str]) -> None:
    name, token = collector
    _, vin, device = _car(db, dpd=5, collector=name)
    response = _track(client, token, vin, 1, format="csv")
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.strip().splitlines()
    assert lines[0] == "device_id,ts,lat,lon,speed_kmh,fixes" and len(lines) == 61 and lines[1].startswith(device)
    assert [r[0] for r in audit_rows(db, actor=name)] == ["track_export"]


@pytest.mark.parametrize("kind", ["tamper", "offline", "power_cut"])
def test_an_open_device_alert_opens_the_track_of_a_current_loan(
    client: TestClient, db: str, collector: tuple[str, str], kind: str
) -> None:
    name, token = collector
    loan_id, vin, _ = _car(db, dpd=0, collector=name)
    assert _track(client, token, vin, 1).status_code == 403
    add_alert(db, loan_id, vin, kind=kind, severity="high")
    response = _track(client, token, vin, 1)
    assert response.status_code == 200 and len(response.json()["points"]) == 60


def _judged(db: str, device: Device, silent: timedelta, th: Thresholds) -> None:
    """The device last heard `silent` ago, its state saved as the detectors' sweep leaves it."""
    add_positions(db, device.device_id, [(NOW - silent, *SHANGHAI)])
    state = DeviceState(last_ts=NOW - silent, fix_ts=NOW - silent, lat=SHANGHAI[0], lon=SHANGHAI[1])
    flagged = absence.offline([absence.Watch(device, state, th)], NOW, th)
    state = dataclasses.replace(state, offline_open=bool(flagged))
    with psycopg.connect(db, autocommit=True) as conn, conn.transaction():
        detector_state.save(conn, [(device.device_id, state.last_ts, state_codec.encode(state, None))])


def test_online_is_the_detectors_verdict_by_each_devices_own_threshold(
    client: TestClient, db: str, collector: tuple[str, str]
) -> None:
    name, token = collector
    with psycopg.connect(db) as conn:
        before = portfolio.stats(conn).devices_offline
    _, vin = add_loan(db, dpd=0, collector=name)
    # A wireless unit on a 72 h schedule silent for 30 h has missed nothing; a wired unit of a
    # portfolio whose policy says 6 h is offline after 8 h, well inside a fixed 24 h bar.
    wireless = Device(
        DeviceId(add_device(db, vin, kind="wireless")), DeviceKind.WIRELESS, scheduled_interval_s=72 * 3600
    )
    wired = Device(DeviceId(add_device(db, vin)), DeviceKind.WIRED)
    _judged(db, wireless, timedelta(hours=30), Thresholds())
    _judged(db, wired, timedelta(hours=8), Thresholds(wired_offline_s=6 * 3600.0))
    body = client.get(f"/api/v1/vehicles/{vin}", params={"purpose": "weekly review"}, headers=auth(token)).json()
    online = {d["device_id"]: d["online"] for d in body["devices"]}
    assert online == {wireless.device_id: True, wired.device_id: False}
    with psycopg.connect(db) as conn:
        assert portfolio.stats(conn).devices_offline == before + 1


def test_a_location_read_needs_a_purpose_and_sane_times(client: TestClient, db: str) -> None:
    _, token = add_user(db, "admin")
    _, vin, _ = _car(db, dpd=10, collector="nobody")
    missing = client.get(f"/api/v1/vehicles/{vin}", headers=auth(token))
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "query.purpose"
    backwards = _track(client, token, vin, -2)
    assert backwards.status_code == 422 and backwards.json()["detail"] == "end: must be after start"
    too_long = _track(client, token, vin, 24 * 40)
    assert too_long.status_code == 422 and too_long.json()["field"] == "end"


@pytest.fixture
def timescale_db(pg_available: None) -> Iterator[str]:
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(own_database(timescale=True))
        except (MigrationError, psycopg.Error) as exc:
            pytest.skip(f"timescaledb cannot be created here: {exc}")
        yield url


@pytest.mark.timescale
def test_long_tracks_on_timescaledb_read_the_five_minute_aggregate(timescale_db: str, mqtt_url: str) -> None:
    name, token = add_user(timescale_db, "collector")
    _, vin, _ = _car(timescale_db, dpd=61, collector=name, hours=30, every_s=30)
    with TestClient(app_for(database_url=timescale_db, mqtt_url=mqtt_url, webhook_interval_s=None)) as client:
        body = _track(client, token, vin, 30).json()
    assert body["bin_s"] == 300  # aggregate-aligned bins
    points = body["points"]
    assert len(points) in (30 * 12, 30 * 12 + 1)
    assert {p["fixes"] for p in points[1:-1]} == {10}  # ten 30-s fixes in each 5-min bucket
    assert sum(p["fixes"] for p in points) == 30 * 120
