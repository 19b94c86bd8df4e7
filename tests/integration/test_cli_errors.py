"""Command-line failures an operator causes are one line naming the cause, not a traceback."""

import json
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


def test_a_bad_thresholds_file_is_one_line_naming_the_threshold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "thresholds.toml"
    policy.write_text('[portfolios.subprime]\nwired_offline_s = 21600\nlong_idle = "3 days"\n', encoding="utf-8")
    monkeypatch.setenv("LIENWATCH_THRESHOLDS_FILE", str(policy))
    exit_code, output = _run(["thresholds"], capsys)
    assert exit_code == 2
    says = "portfolios.subprime.long_idle: unknown threshold"
    assert output == f"error: setting LIENWATCH_THRESHOLDS_FILE: {policy}: {says}"


def test_the_thresholds_in_force_are_printed_per_portfolio(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "thresholds.toml"
    policy.write_text("[default]\nlong_idle_s = 172800\n[portfolios.subprime]\nwired_offline_s = 21600\n")
    monkeypatch.setenv("LIENWATCH_THRESHOLDS_FILE", str(policy))
    app(args=["thresholds"], prog_name="lienwatch", standalone_mode=False)
    shown = json.loads(capsys.readouterr().out)
    assert shown["default"]["long_idle_s"] == 172800 and shown["default"]["wired_offline_s"] == 86400
    assert shown["portfolios"]["subprime"]["wired_offline_s"] == 21600
    assert shown["portfolios"]["subprime"]["long_idle_s"] == 172800
