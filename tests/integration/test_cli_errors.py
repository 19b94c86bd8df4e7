"""Command-line failures an operator causes are one line naming the cause, not a traceback."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.local_mosquitto import PrivateMosquitto
from ingest.passwords import PasswordFile
from lienwatch.cli import app
from tests.support.api_harness import own_database

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def db(pg_available: None) -> Iterator[str]:
    with own_database() as url:
        yield url


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        app(args=args, prog_name="lienwatch")
    captured = capsys.readouterr()
    return int(exited.value.code or 0), (captured.out + captured.err).strip()


@pytest.mark.parametrize(
    ("env", "args", "code", "says"),
    [
        ({"LIENWATCH_RETENTION_DAYS": "soon"}, ["db", "status"], 2, "error: setting LIENWATCH_RETENTION_DAYS: "),
        ({"LIENWATCH_DATABASE_URL": "not a url"}, ["db", "status"], 1, "error: database: "),
        (
            {"LIENWATCH_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nothing"},
            ["quarantine", "list"],
            1,
            "error: cannot connect to the database: ",
        ),
        ({}, ["quarantine", "list", "--reason", "bogus"], 2, "error: --reason: 'bogus' is not a reason code"),
    ],
)
def test_operator_mistakes_are_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    args: list[str],
    code: int,
    says: str,
) -> None:
    monkeypatch.setenv("LIENWATCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nothing")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    exit_code, output = _run(args, capsys)
    assert exit_code == code, output
    assert output.startswith(says), output
    assert len(output.splitlines()) == 1, output
    assert "Traceback" not in output


def test_a_binary_csv_is_one_line(
    tmp_path: Path, db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LIENWATCH_DATABASE_URL", db)
    binary = tmp_path / "devices.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    exit_code, output = _run(["devices", "import", str(binary)], capsys)
    assert exit_code == 2 and output == f"error: {binary}: not a UTF-8 text file (a CSV with a header row is expected)"


def test_a_wrong_broker_password_names_the_cause(
    tmp_path: Path, db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    passwd = tmp_path / "passwd"
    PasswordFile(passwd).set("lienwatch-ingest", "the-right-password")
    broker = PrivateMosquitto(tmp_path / "broker", password_file=passwd)
    broker.start()
    try:
        monkeypatch.setenv("LIENWATCH_DATABASE_URL", db)
        monkeypatch.setenv("LIENWATCH_MQTT_URL", f"mqtt://lienwatch-ingest:a-wrong-one@127.0.0.1:{broker.port}")
        monkeypatch.setenv("LIENWATCH_METRICS_PORT", "0")
        monkeypatch.setenv("LIENWATCH_MQTT_CLIENT_ID", "lw-test-wrong-password")
        exit_code, output = _run(["ingest"], capsys)
    finally:
        broker.stop()
    assert exit_code == 1
    assert "refused the login as lienwatch-ingest" in output and "password" in output
    assert "a-wrong-one" not in output and "the-right-password" not in output
