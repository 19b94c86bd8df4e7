"""`lienwatch users`: tokens expire, can be listed, revoked and rotated, every command is audited,
and a user has a real name."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from lienwatch.api_wiring import app_for
from lienwatch.commands.users import users_app
from tests.support.api_harness import auth, own_database, unique

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def db(pg_available: None) -> Iterator[str]:
    with own_database() as url:
        yield url


@pytest.fixture(scope="module")
def client(db: str, mqtt_url: str) -> Iterator[TestClient]:
    with TestClient(app_for(database_url=db, mqtt_url=mqtt_url, webhook_interval_s=None)) as c:
        yield c


@pytest.fixture
def cli(db: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("LIENWATCH_DATABASE_URL", db)
    monkeypatch.setenv("LIENWATCH_TOKEN_TTL_DAYS", "7")
    return CliRunner()


def _audit(db: str, name: str) -> list[str]:
    with psycopg.connect(db) as conn:
        rows = conn.execute(
            "SELECT action FROM audit_log WHERE subject_type = 'user' AND subject_id = %s ORDER BY audit_id", (name,)
        ).fetchall()
    return [r[0] for r in rows]


def _token(output: str) -> str:
    return output.strip().splitlines()[-1]


@pytest.mark.parametrize("name", ["", "   ", " padded", "tab\there", "x" * 201])
def test_a_user_needs_a_real_name(cli: CliRunner, db: str, name: str) -> None:
    result = cli.invoke(users_app, ["create", name, "--role", "admin"])
    assert result.exit_code == 2, result.output
    assert "name:" in result.output
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM api_users WHERE name = %s", (name,)).fetchone() == (0,)
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("INSERT INTO api_users (name, role) VALUES (%s, 'admin')", (name or " ",))


def test_tokens_expire_after_the_configured_days(cli: CliRunner, client: TestClient, db: str) -> None:
    name = unique("ttl")
    created = cli.invoke(users_app, ["create", name, "--role", "supervisor"])
    assert created.exit_code == 0, created.output
    token = _token(created.output)
    assert client.get("/api/v1/portfolio/stats", headers=auth(token)).status_code == 200
    with psycopg.connect(db, autocommit=True) as conn:
        row = conn.execute("SELECT expires_at FROM api_tokens WHERE user_name = %s", (name,)).fetchone()
        assert row is not None
        assert abs(row[0] - (datetime.now(UTC) + timedelta(days=7))) < timedelta(minutes=5)
        conn.execute("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE user_name = %s", (name,))
    expired = client.get("/api/v1/portfolio/stats", headers=auth(token))
    assert expired.status_code == 401


def test_list_revoke_and_rotate_are_audited(cli: CliRunner, client: TestClient, db: str) -> None:
    name = unique("rot")
    first = _token(cli.invoke(users_app, ["create", name, "--role", "collector"]).output)
    listed = cli.invoke(users_app, ["list"])
    assert listed.exit_code == 0 and name in listed.output and first not in listed.output
    rotated = cli.invoke(users_app, ["rotate", name])
    assert rotated.exit_code == 0, rotated.output
    second = _token(rotated.output)
    assert second != first
    assert client.get("/api/v1/alerts", headers=auth(first)).status_code == 401
    assert client.get("/api/v1/alerts", headers=auth(second)).status_code == 200
    revoked = cli.invoke(users_app, ["revoke", name])
    assert revoked.exit_code == 0 and "revoked 1 token(s)" in revoked.output
    assert client.get("/api/v1/alerts", headers=auth(second)).status_code == 401
    unknown = cli.invoke(users_app, ["revoke", unique("ghost")])
    assert unknown.exit_code == 1 and "does not exist" in unknown.output
    assert _audit(db, name) == ["user_create", "user_rotate", "user_revoke"]
    with psycopg.connect(db) as conn:
        actors = conn.execute("SELECT DISTINCT actor FROM audit_log WHERE subject_id = %s", (name,)).fetchall()
        listing = conn.execute("SELECT count(*) FROM audit_log WHERE action = 'user_list'").fetchone()
    assert len(actors) == 1 and actors[0][0].startswith("cli:")
    assert listing is not None and listing[0] >= 1
