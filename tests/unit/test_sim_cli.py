"""The simulator's typer app: exactly `simulate` and `evaluate`, each documented, failing clearly."""

from pathlib import Path

import orjson
import pytest
from typer.main import get_command
from typer.testing import CliRunner

from lienwatch.commands.simulate import app

runner = CliRunner()


def test_app_has_exactly_simulate_and_evaluate_with_help() -> None:
    group = get_command(app)
    assert sorted(group.commands) == ["evaluate", "simulate"]  # type: ignore[attr-defined]
    for name in ("simulate", "evaluate"):
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0
        assert "--labels" in result.output


def test_simulate_without_publishing_writes_labels_and_run_description(tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    result = runner.invoke(app, [
        "simulate", "--vehicles", "20", "--days", "2", "--seed", "4", "--scenarios", "tow,gps_jump",
        "--start", "2026-11-02T00:00:00", "--labels", str(labels), "--no-publish",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = [orjson.loads(line) for line in labels.read_bytes().splitlines()]
    assert sorted(obj["kind"] for obj in lines) == ["gps_jump", "tow"]
    meta = orjson.loads((tmp_path / "labels.jsonl.meta.json").read_bytes())
    assert meta["vehicles"] == 20 and meta["days"] == 2 and meta["start"] == "2026-11-02T00:00:00Z"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenarios", "alien_abduction"], "unknown scenario 'alien_abduction'"),
        (["--scenarios", "long_idle", "--days", "2"], "needs at least 4 simulated days"),
        (["--scenarios", "none"], "LIENWATCH_MQTT_URL is not set"),
    ],
)
def test_simulate_fails_clearly(monkeypatch: pytest.MonkeyPatch, args: list[str], message: str) -> None:
    monkeypatch.delenv("LIENWATCH_MQTT_URL", raising=False)
    result = runner.invoke(app, ["simulate", "--vehicles", "5", *args])
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())


def test_evaluate_needs_the_fleet_size(tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    labels.write_bytes(b"")
    result = runner.invoke(app, ["evaluate", "--labels", str(labels)])
    assert result.exit_code == 1
    assert "pass --vehicles and --days" in result.output
