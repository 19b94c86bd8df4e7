"""The command line and docker-compose.yml stay true to each other; the wheel ships the product alone."""

import ast
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import setuptools
import typer.main
import yaml
from typer.testing import CliRunner

from lienwatch.cli import app

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PRODUCT = {"domain", "storage", "lienwatch", "ingest", "geofence", "alerts", "api", "simulators", "wire"}


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    found: dict[tuple[str, ...], Any] = {}
    for name, command in group.commands.items():
        path = (*prefix, name)
        found[path] = command
        if hasattr(command, "commands"):  # a sub-group
            found |= _commands(command, path)
    return found


COMMANDS = _commands(typer.main.get_command(app))  # type: ignore[arg-type]


def test_every_subcommand_has_help() -> None:
    runner = CliRunner()
    assert ("db", "migrate") in COMMANDS and ("db", "status") in COMMANDS and ("ingest",) in COMMANDS
    for path in COMMANDS:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage" in result.output
        assert COMMANDS[path].help, f"lienwatch {' '.join(path)} has no help text"


def test_compose_commands_are_real_subcommands_and_mounts_exist() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"timescaledb", "mosquitto", "ingest", "api", "scheduler", "simulator"} <= set(services)
    assert services["simulator"]["profiles"] == ["simulator"]
    for name, service in services.items():
        command = service.get("command")
        if command is not None:
            assert command[0] == "lienwatch", name
            words = tuple(w for w in command[1:] if not w.startswith("-"))
            assert any(words[: len(path)] == path for path in COMMANDS), f"{name}: {command} is not a subcommand"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).is_file(), f"{name} mounts missing {source}"


def test_broker_acl_confines_each_tracker_to_its_own_topics() -> None:
    acl = (ROOT / "deploy" / "mosquitto" / "acl").read_text().splitlines()
    patterns = [line for line in acl if line.startswith("pattern")]
    assert patterns == ["pattern write trackers/%u/position", "pattern read trackers/%u/command"]
    conf = (ROOT / "deploy" / "mosquitto" / "mosquitto.conf").read_text()
    settings = dict(line.split(None, 1) for line in conf.splitlines() if line and not line.startswith("#"))
    # Ack-after-commit needs an in-flight window larger than a 5,000-message batch.
    assert int(settings["max_inflight_messages"]) >= 10_000
    assert int(settings["max_queued_messages"]) >= 1_000_000


LIENWATCH_SERVICES = ("migrate", "ingest", "scheduler", "api", "simulator")


def test_compose_holds_no_secret_and_every_process_is_configured_alike() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    services = yaml.safe_load(text)["services"]
    # A password in a URL or an environment entry is always a ${VAR} from .env, never a literal.
    for match in re.finditer(r"://[^:/@\s]+:([^@\s]+)@", text):
        assert match.group(1).startswith("${"), match.group(0)
    assert services["timescaledb"]["environment"]["POSTGRES_PASSWORD"].startswith("${")
    for name in LIENWATCH_SERVICES:
        env = services[name]["environment"]
        assert env["LIENWATCH_TIMESCALE"] == "on", name
        assert env["LIENWATCH_DATABASE_URL"].startswith("postgresql://lienwatch_app:"), name
        if name != "migrate":
            assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
    assert "LIENWATCH_OWNER_DATABASE_URL" in services["migrate"]["environment"]
    assert services["mosquitto"]["depends_on"]["broker-credentials"]["condition"] == "service_completed_successfully"
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert "deploy/mosquitto/passwd" not in tracked and ".env" not in tracked
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert {".env", ".venv", ".git", "var"} <= set(ignored)
def _wheel_packages() -> list[str]:
    """The packages setuptools puts in the wheel, found as the build finds them (pyproject's `find`)."""
    found = PYPROJECT["tool"]["setuptools"]["packages"]["find"]
    return list(
        setuptools.find_namespace_packages(where=str(ROOT), include=found["include"], exclude=found.get("exclude", ()))
    )


def _requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0].lower() for r in requirements}


def test_wheel_holds_the_product_packages_and_no_benchmark_module() -> None:
    packages = _wheel_packages()
    assert {p.split(".")[0] for p in packages} == PRODUCT
    modules = [f"{p}.{f.stem}" for p in packages for f in (ROOT / p.replace(".", "/")).glob("*.py")]
    assert "lienwatch.cli" in modules and "ingest.decode" in modules
    benches = [m for m in (*packages, *modules) if any(part.startswith("bench") for part in m.split("."))]
    assert benches == [], f"benchmark code would ship in the wheel: {benches}"


def test_benchmark_dependencies_are_an_extra_not_runtime() -> None:
    project = PYPROJECT["project"]
    runtime = _requirement_names(project["dependencies"])
    extras = project["optional-dependencies"]
    assert "psutil" not in runtime and "httpx" not in runtime
    assert {"psutil", "httpx"} <= _requirement_names(extras["bench"])
    assert "lienwatch[bench]" in extras["test"]


def test_product_imports_neither_benchmarks_nor_tests() -> None:
    offending = []
    for package in sorted(PRODUCT):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                outside = [n for n in names if n.split(".")[0] in {"benchmarks", "tests"}]
                offending += [f"{path.relative_to(ROOT)}: {n}" for n in outside]
    assert offending == []
