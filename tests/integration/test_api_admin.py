"""Administration: loans (single, bulk JSON and CSV, settle, holds, assignment), devices, fences,
quarantine replay, portfolio figures, the audit log and `lienwatch users create`."""

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from domain.ids import Vin
from lienwatch.api_wiring import app_for
from lienwatch.commands.users import users_app
from storage import quarantine
from storage.loans import loans_by_vin
from storage.quarantine import QuarantineRow
from tests.support.api_harness import add_alert, add_device, add_loan, add_user, auth, own_database, unique

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def db(pg_available: None) -> Iterator[str]:
    with own_database() as url:
        yield url


@pytest.fixture(scope="module")
def client(db: str, mqtt_url: str) -> Iterator[TestClient]:
    with TestClient(app_for(database_url=db, mqtt_url=mqtt_url, webhook_interval_s=None)) as c:
        yield c


@pytest.fixture(scope="module")
def admin(db: str) -> dict[str, str]:
    return auth(add_user(db, "admin")[1])


@pytest.fixture(scope="module")
def loan_system(db: str) -> dict[str, str]:
    return auth(add_user(db, "integration")[1])


def test_put_creates_then_updates_a_loan_without_lifting_its_holds(
    client: TestClient, admin: dict[str, str], loan_system: dict[str, str]
) -> None:
    loan_id, vin = unique("L"), unique("VIN")
    body: dict[str, Any] = {"vin": vin, "plate": "沪B99999", "borrower_name": "Li Si", "days_past_due": 0}
    created = client.put(f"/api/v1/loans/{loan_id}", json=body, headers=loan_system)
    assert created.status_code == 201 and created.json()["plate"] == "沪*****9"
    hold = client.post(f"/api/v1/loans/{loan_id}/holds", json={"kind": "bankruptcy", "note": "ch. 7"}, headers=admin)
    assert hold.status_code == 201
    updated = client.put(f"/api/v1/loans/{loan_id}", json=body | {"days_past_due": 33}, headers=loan_system)
    assert updated.status_code == 200
    assert (updated.json()["days_past_due"], updated.json()["bucket"]) == (33, "M2")
    assert [h["kind"] for h in updated.json()["holds"]] == ["bankruptcy"]
    released = client.delete(f"/api/v1/loans/{loan_id}/holds/{hold.json()['hold_id']}", headers=admin)
    assert released.json()["holds"] == []
    assert client.delete(f"/api/v1/loans/{loan_id}/holds/{hold.json()['hold_id']}", headers=admin).status_code == 404
    ana, _ = add_user(client.app.state.database_url, "collector")  # type: ignore[attr-defined]
    assigned = client.put(f"/api/v1/loans/{loan_id}/assignment", json={"collector": ana}, headers=admin)
    assert assigned.json()["assigned_collector"] == ana
    settled = client.post(f"/api/v1/loans/{loan_id}/settle", headers=loan_system).json()
    assert (settled["status"], settled["days_past_due"]) == ("settled", 0)


def test_validation_errors_name_the_field(client: TestClient, loan_system: dict[str, str]) -> None:
    response = client.put(f"/api/v1/loans/{unique('L')}", json={"vin": "V", "days_past_due": -3}, headers=loan_system)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {"field": "body.days_past_due", "reason": "Input should be greater than or equal to 0"}
    ]


def test_bulk_json_is_all_or_nothing(client: TestClient, loan_system: dict[str, str]) -> None:
    ids = [unique("L") for _ in range(3)]
    loans = [{"loan_id": i, "vin": unique("VIN"), "days_past_due": n * 10} for n, i in enumerate(ids)]
    stored = client.post("/api/v1/loans/bulk", json={"loans": loans}, headers=loan_system)
    assert stored.json() == {"received": 3, "created": 3, "updated": 0}
    again = client.post("/api/v1/loans/bulk", json={"loans": loans[:1]}, headers=loan_system)
    assert again.json() == {"received": 1, "created": 0, "updated": 1}
    bad = [*loans, {"loan_id": unique("L"), "vin": "V", "status": "lost"}]
    refused = client.post("/api/v1/loans/bulk", json={"loans": bad}, headers=loan_system)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "body.loans.3.status"


def test_bulk_csv_names_row_and_field_and_stores_nothing_on_error(
    client: TestClient, admin: dict[str, str], loan_system: dict[str, str]
) -> None:
    a, b = unique("L"), unique("L")
    ana, _ = add_user(client.app.state.database_url, "collector")  # type: ignore[attr-defined]
    good = (
        "loan_id,vin,plate,days_past_due,assigned_collector\n"
        f"{a},{unique('VIN')},京A1,12,{ana}\n"
        f"{b},{unique('VIN')},,0,\n"
    )
    # Assigning collectors takes loans.assign: the admin imports this file, not the loan system.
    csv_as_admin = admin | {"Content-Type": "text/csv"}
    assert client.post("/api/v1/loans/bulk.csv", content=good.encode(), headers=csv_as_admin).json()["created"] == 2
    assert client.get(f"/api/v1/loans/{a}", headers=loan_system).json()["assigned_collector"] == ana
    headers = loan_system | {"Content-Type": "text/csv"}
    c = unique("L")
    bad = f"loan_id,vin,days_past_due\n{c},{unique('VIN')},3\n{unique('L')},{unique('VIN')},soon\n"
    refused = client.post("/api/v1/loans/bulk.csv", content=bad.encode(), headers=headers)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "row 3.days_past_due"
    assert client.get(f"/api/v1/loans/{c}", headers=loan_system).status_code == 404
    no_header = client.post("/api/v1/loans/bulk.csv", content=b"x,y\n1,2\n", headers=headers)
    assert no_header.status_code == 422 and no_header.json()["field"] == "body"


def test_bound_region_must_name_one_province_or_city(client: TestClient, loan_system: dict[str, str]) -> None:
    loan_id, vin = unique("L"), unique("VIN")
    for name in ("430100", "长沙市", "Hunan", "CN-SH"):
        stored = client.put(f"/api/v1/loans/{loan_id}", json={"vin": vin, "bound_region": name}, headers=loan_system)
        assert stored.status_code in (200, 201) and stored.json()["bound_region"] == name, name
    for name, reason in (("Atlantis", "no province or city"), ("吉林", "ambiguous, it names 吉林省 (220000)")):
        refused = client.put(f"/api/v1/loans/{loan_id}", json={"vin": vin, "bound_region": name}, headers=loan_system)
        assert refused.status_code == 422, name
        [error] = refused.json()["errors"]
        assert error["field"] == "body.bound_region" and reason in error["reason"], error
    assert client.get(f"/api/v1/loans/{loan_id}", headers=loan_system).json()["bound_region"] == "CN-SH"
    # At import: the whole file is refused, the row and field named.
    bulk = [{"loan_id": unique("L"), "vin": unique("VIN"), "bound_region": "湖南省"}]
    bulk.append({"loan_id": unique("L"), "vin": unique("VIN"), "bound_region": "CN-YRD"})
    refused = client.post("/api/v1/loans/bulk", json={"loans": bulk}, headers=loan_system)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "body.loans.1.bound_region"
    assert client.get(f"/api/v1/loans/{bulk[0]['loan_id']}", headers=loan_system).status_code == 404
    rows = f"loan_id,vin,bound_region\n{unique('L')},{unique('VIN')},长沙\n{unique('L')},{unique('VIN')},Gotham\n"
    csv_refused = client.post(
        "/api/v1/loans/bulk.csv", content=rows.encode(), headers=loan_system | {"Content-Type": "text/csv"}
    )
    assert csv_refused.status_code == 422 and csv_refused.json()["errors"][0]["field"] == "row 3.bound_region"


def test_a_loans_portfolio_is_pushed_read_and_judged_by_its_thresholds(
    client: TestClient, loan_system: dict[str, str], db: str
) -> None:
    loan_id, vin = unique("L"), unique("VIN")
    body = {"vin": vin, "portfolio": "subprime-2026"}
    stored = client.put(f"/api/v1/loans/{loan_id}", json=body, headers=loan_system)
    assert stored.status_code in (200, 201) and stored.json()["portfolio"] == "subprime-2026"
    assert client.get(f"/api/v1/loans/{loan_id}", headers=loan_system).json()["portfolio"] == "subprime-2026"
    with psycopg.connect(db) as conn:
        assert loans_by_vin(conn, [vin])[Vin(vin)].portfolio == "subprime-2026"  # what the detectors read
    for bad in ("", " subprime", "sub\x00prime"):
        refused = client.put(f"/api/v1/loans/{loan_id}", json={"vin": vin, "portfolio": bad}, headers=loan_system)
        assert refused.status_code == 422, bad
        assert refused.json()["errors"][0]["field"] == "body.portfolio", bad
    cleared = client.put(f"/api/v1/loans/{loan_id}", json={"vin": vin}, headers=loan_system)
    assert cleared.json()["portfolio"] is None


def test_devices_register_pair_and_cadence(client: TestClient, db: str) -> None:
    installer = auth(add_user(db, "installer")[1])
    _, vin = add_loan(db)
    device = unique("dev")
    made = client.put(
        f"/api/v1/devices/{device}", json={"kind": "wireless", "scheduled_interval_s": 3600}, headers=installer
    )
    assert made.status_code == 201 and made.json()["vin"] is None
    paired = client.put(f"/api/v1/devices/{device}/vehicle", json={"vin": vin}, headers=installer)
    assert paired.json()["vin"] == vin
    missing = client.put(f"/api/v1/devices/{device}/vehicle", json={"vin": "NO-SUCH-VIN"}, headers=installer)
    assert missing.status_code == 404 and missing.json()["field"] == "vin"
    cadence = client.put(f"/api/v1/devices/{device}/cadence", json={"scheduled_interval_s": 7200}, headers=installer)
    assert cadence.json()["scheduled_interval_s"] == 7200
    listed = client.get("/api/v1/devices", params={"vin": vin}, headers=installer).json()["items"]
    assert [d["device_id"] for d in listed] == [device]
    unknown = client.put(f"/api/v1/devices/{unique('dev')}/cadence", json={}, headers=installer)
    assert unknown.status_code == 404


PAWN_SHOP = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [121.4737, 31.2304]},
    "properties": {"name": "Pawn shop on Nanjing Rd", "kind": "risk_zone", "subtype": "pawn_shop", "radius_m": 120},
}


def test_fence_crud_and_risk_zone_import(client: TestClient, admin: dict[str, str]) -> None:
    made = client.post("/api/v1/fences", json=PAWN_SHOP, headers=admin)
    assert made.status_code == 201
    fence_id = made.json()["id"]
    assert made.json()["properties"]["dwell_s"] == 1800
    renamed = PAWN_SHOP | {"properties": PAWN_SHOP["properties"] | {"name": "Pawn shop (moved)", "radius_m": 80}}
    replaced = client.put(f"/api/v1/fences/{fence_id}", json=renamed, headers=admin).json()
    assert (replaced["properties"]["name"], replaced["properties"]["radius_m"]) == ("Pawn shop (moved)", 80)
    assert client.get(f"/api/v1/fences/{fence_id}", headers=admin).json()["geometry"]["type"] == "Point"
    no_radius = PAWN_SHOP | {"properties": {"name": "x", "kind": "risk_zone"}}
    refused = client.post("/api/v1/fences", json=no_radius, headers=admin)
    assert refused.status_code == 422 and refused.json()["field"] == "radius_m"
    assert client.delete(f"/api/v1/fences/{fence_id}", headers=admin).status_code == 204
    assert client.get(f"/api/v1/fences/{fence_id}", headers=admin).status_code == 404
    square = {
        "type": "Feature",
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[121.0, 31.0], [121.01, 31.0], [121.01, 31.01], [121.0, 31.0]]],
        },
        "properties": {"name": "used-car market", "kind": "risk_zone", "subtype": "used_car_market"},
    }
    imported = client.post(
        "/api/v1/fences/import", json={"type": "FeatureCollection", "features": [PAWN_SHOP, square]}, headers=admin
    )
    assert imported.status_code == 201 and imported.json()["created"] == 2
    home = PAWN_SHOP | {"properties": {"name": "home", "kind": "home", "radius_m": 200}}
    wrong = client.post("/api/v1/fences/import", json={"type": "FeatureCollection", "features": [home]}, headers=admin)
    assert wrong.status_code == 422 and wrong.json()["detail"] == "features[0].properties.kind: must be risk_zone"


def test_quarantine_list_and_replay_after_registration(client: TestClient, admin: dict[str, str], db: str) -> None:
    device = unique("late")
    now = datetime.now(UTC)
    payload = json.dumps({"ts": (now - timedelta(minutes=3)).isoformat(), "lat": 31.2, "lon": 121.4}).encode()
    with psycopg.connect(db, autocommit=True) as conn:
        quarantine.insert(
            conn, [QuarantineRow(now, f"trackers/{device}/position", payload, "unknown_device", "", device)]
        )
    listed = client.get("/api/v1/quarantine", params={"reason": "unknown_device", "limit": 1000}, headers=admin).json()
    mine = [e for e in listed["items"] if e["device_id"] == device]
    assert len(mine) == 1 and json.loads(mine[0]["payload"])["lat"] == 31.2
    _, vin = add_loan(db)
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("INSERT INTO devices (device_id, kind, vin) VALUES (%s, 'wired', %s)", (device, vin))
    report = client.post("/api/v1/quarantine/replay", json={"reason": "unknown_device"}, headers=admin).json()
    assert report["replayed"] >= 1 and report["positions_stored"] >= 1
    with psycopg.connect(db) as conn:
        stored = conn.execute("SELECT lat, lon FROM positions WHERE device_id = %s", (device,)).fetchall()
    assert stored == [(31.2, 121.4)]


def test_portfolio_counts_open_alerts_by_kind_and_bucket(client: TestClient, db: str) -> None:
    boss = auth(add_user(db, "supervisor")[1])
    before = client.get("/api/v1/portfolio/stats", headers=boss).json()
    loan_id, vin = add_loan(db, dpd=70)
    add_device(db, vin)  # never reported: offline
    add_alert(db, loan_id, vin, kind="risk_zone_dwell", severity="high")
    after = client.get("/api/v1/portfolio/stats", headers=boss).json()
    count = after["open_alerts"]["risk_zone_dwell"]["M3"]
    assert count == before["open_alerts"].get("risk_zone_dwell", {}).get("M3", 0) + 1
    assert after["vehicles_in_risk_zones"] == before["vehicles_in_risk_zones"] + 1
    assert after["devices_offline"] == before["devices_offline"] + 1


def test_audit_log_pages_newest_first_and_filters(client: TestClient, db: str) -> None:
    name, token = add_user(db, "admin")
    _, vin = add_loan(db, dpd=3)
    for purpose in ("first", "second", "third"):
        client.get(f"/api/v1/vehicles/{vin}", params={"purpose": purpose}, headers=auth(token))
    page = client.get("/api/v1/audit", params={"actor": name, "limit": 2}, headers=auth(token)).json()
    assert [e["purpose"] for e in page["items"]] == ["third", "second"]
    rest = client.get("/api/v1/audit", params={"actor": name, "cursor": page["next_cursor"]}, headers=auth(token))
    assert [e["purpose"] for e in rest.json()["items"]] == ["first"]


def test_users_create_prints_a_working_token_stored_only_hashed(
    client: TestClient, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIENWATCH_DATABASE_URL", db)
    name = unique("sam")
    result = CliRunner().invoke(users_app, ["create", name, "--role", "supervisor"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert client.get("/api/v1/portfolio/stats", headers=auth(token)).status_code == 200
    with psycopg.connect(db) as conn:
        stored = conn.execute("SELECT token_sha256 FROM api_tokens WHERE user_name = %s", (name,)).fetchall()
    assert stored == [(hashlib.sha256(token.encode()).digest(),)]
    duplicate = CliRunner().invoke(users_app, ["create", name, "--role", "admin"])
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    bad_role = CliRunner().invoke(users_app, ["create", unique("x"), "--role", "root"])
    assert bad_role.exit_code == 2
