"""The walls of the design, checked on the source: imports run down, never up or across rooms.

Core (pure, no I/O): domain ← wire ← geofence ← alerts. Storage holds every SQL statement and
may know the core's types but never the judge. The rooms (ingest, api, simulators) use the core
and storage and never each other; only the composition root, lienwatch/, knows them all (and
Settings)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# package -> the packages of ours it may import. Everything else is a wall crossed.
MAY_IMPORT: dict[str, set[str]] = {
    "domain": set(),
    "wire": {"domain"},
    "geofence": {"domain"},
    "alerts": {"domain", "geofence"},
    "storage": {"domain", "geofence"},
    "ingest": {"domain", "wire", "geofence", "alerts", "storage"},
    "api": {"domain", "geofence", "alerts", "storage"},
    "simulators": {"domain", "wire", "geofence", "storage"},
    "lienwatch": {"domain", "wire", "geofence", "alerts", "storage", "ingest", "api", "simulators"},
}
PURE = ("domain", "wire", "geofence", "alerts")
IO_MODULES = {"psycopg", "psycopg_pool", "paho", "aiomqtt", "nats", "fastapi", "uvicorn", "socket", "asyncio"}


def _imports(package: str) -> list[tuple[str, str]]:
    """(module file, imported module) for every absolute import under `package`, local ones included."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                found += [(str(path.relative_to(ROOT)), alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.append((str(path.relative_to(ROOT)), node.module))
    return found


def test_every_product_package_has_a_place_in_the_layers() -> None:
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "benchmarks"}
    assert packages == set(MAY_IMPORT)


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_imports_run_down(package: str) -> None:
    ours = set(MAY_IMPORT)
    crossed = [
        f"{where} imports {name}"
        for where, name in _imports(package)
        if (top := name.split(".")[0]) in ours and top != package and top not in MAY_IMPORT[package]
    ]
    assert crossed == []


@pytest.mark.parametrize("package", PURE)
def test_the_core_does_no_io(package: str) -> None:
    io = [f"{where} imports {name}" for where, name in _imports(package) if name.split(".")[0] in IO_MODULES]
    assert io == []


def test_only_the_root_reads_settings() -> None:
    readers = [
        f"{where} imports {name}"
        for package in MAY_IMPORT
        if package != "lienwatch"
        for where, name in _imports(package)
        if name.split(".")[0] in {"pydantic_settings", "lienwatch"}
    ]
    assert readers == []
