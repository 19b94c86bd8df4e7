"""Geofence benchmark: fence checks per second for a batch of fixes, index vs brute force vs PostGIS.

Convention: a "fence check" is one (position, fence) pair decided, so checks/s = positions ×
fences / seconds spent deciding the whole batch (tree query + exact accuracy-aware test; building
the index is timed separately). The index decides most pairs by not returning them, which is the
point of an index; the brute force measures every pair exactly, one position at a time against all
fences (numpy + shapely, vectorised over fences), sampled for a time budget and extrapolated.
pipeline_positions_per_s is the end-to-end rate of tracker.evaluate_batch (index plus the per-device
state machine in Python) for the same batch spread over 1000 devices.
PostGIS, when the extension is available, runs the same decision as one ST_DWithin join over
geography with a GiST index, in a scratch database it creates and drops.

Synthetic world (seeded): fences spread over the Yangtze delta (119.5–122.0 E, 30.0–32.5 N), 90 %
circles of 50–500 m radius and 10 % hexagons of 200–2000 m; half the positions are placed near a
fence, accuracy 5–100 m (5 % coarse, 500–2000 m).
"""

import math
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import numpy as np
import shapely
from shapely.geometry import Point, Polygon

from domain.ids import DeviceId, FenceId
from domain.position import Position
from domain.vocabulary import FenceKind
from geofence.fence import Fence
from geofence.index import FenceIndex
from geofence.membership import FenceState, Phase
from geofence.signals import Fix
from geofence.tracker import DeviceFences, evaluate_batch

_WEST, _EAST, _SOUTH, _NORTH = 119.5, 122.0, 30.0, 32.5
_M_PER_DEG: Final = 111_320.0
_REPEATS: Final = 3


def synthetic_fences(count: int, rng: np.random.Generator) -> list[Fence]:
    """Seeded risk-zone fences: 90 % circles, 10 % hexagons."""
    lon = rng.uniform(_WEST, _EAST, count)
    lat = rng.uniform(_SOUTH, _NORTH, count)
    circle = rng.random(count) < 0.9
    fences: list[Fence] = []
    for i in range(count):
        if circle[i]:
            geometry: Any = Point(lon[i], lat[i])
            radius: float | None = float(rng.uniform(50, 500))
        else:
            r = rng.uniform(200, 2000) / _M_PER_DEG
            angles = np.linspace(0, 2 * math.pi, 7)[:-1] + rng.uniform(0, 1)
            squash = math.cos(math.radians(lat[i]))
            ring = [(lon[i] + r * math.cos(a) / squash, lat[i] + r * math.sin(a)) for a in angles]
            geometry, radius = Polygon(ring), None
        fences.append(Fence(FenceId(i + 1), f"bench-{i}", FenceKind.RISK_ZONE, geometry, radius_m=radius))
    return fences


def synthetic_positions(
    count: int, fences: Sequence[Fence], rng: np.random.Generator
) -> tuple[np.ndarray[Any, np.dtype[np.float64]], ...]:
    """(lat, lon, accuracy_m): half near a fence (within ~1 km), half anywhere."""
    lon = rng.uniform(_WEST, _EAST, count)
    lat = rng.uniform(_SOUTH, _NORTH, count)
    near = rng.random(count) < 0.5
    picks = rng.integers(0, len(fences), count)
    cx = shapely.get_x(shapely.centroid(np.array([fences[p].geometry for p in picks], dtype=object)))
    cy = shapely.get_y(shapely.centroid(np.array([fences[p].geometry for p in picks], dtype=object)))
    jitter = rng.normal(0, 400 / _M_PER_DEG, (2, count))
    lon = np.where(near, cx + jitter[0], lon)
    lat = np.where(near, cy + jitter[1], lat)
    acc = np.where(rng.random(count) < 0.05, rng.uniform(500, 2000, count), rng.uniform(5, 100, count))
    return lat, lon, acc


def _best(fn: Any, repeats: int = _REPEATS) -> float:
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _bruteforce(index: FenceIndex, lat: Any, lon: Any, acc: Any, budget_s: float) -> tuple[float, int]:
    """Checks/s of the one-position-at-a-time loop over all fences, sampled for budget_s."""
    rows = np.arange(len(index), dtype=np.int64)
    done, start = 0, time.perf_counter()
    while done < lat.size and (done < 3 or time.perf_counter() - start < budget_s):
        n = rows.size
        index.measure(np.full(n, lat[done]), np.full(n, lon[done]), np.full(n, acc[done]), rows)
        done += 1
    return done * len(index) / (time.perf_counter() - start), done


def _pipeline(index: FenceIndex, lat: Any, lon: Any, acc: Any, devices: int = 1000) -> float:
    """Positions/s through evaluate_batch (index + per-device state machine), fresh state."""
    t0 = datetime(2026, 11, 2, tzinfo=UTC)
    batch = [
        Position(
            DeviceId(f"bench-{i % devices}"),
            t0 + timedelta(seconds=i),
            float(lat[i]),
            float(lon[i]),
            t0,
            accuracy_m=float(acc[i]),
        )
        for i in range(lat.size)
    ]
    return float(lat.size / _best(lambda: evaluate_batch(index, batch, {}, {})))


def device_state_bytes() -> int:
    """Deep size of one device's state while inside two fences, one exit pending."""
    now = datetime.now(UTC)
    entered = Fix(now, 31.2304, 121.4737, 12.0)
    out = Fix(now, 31.2399, 121.4737, 9.0)
    state = DeviceFences(
        inside=(
            (FenceId(101), FenceState(Phase.INSIDE, entered, dwell_signalled=True)),
            (FenceId(202), FenceState(Phase.LEAVING, entered, first_out=out, out_count=1)),
        ),
        last_ts=now,
    )
    return deep_size(state)


def deep_size(obj: object, seen: set[int] | None = None) -> int:
    """Bytes held by obj and everything it references, each object once; shared singletons excluded."""
    seen = set() if seen is None else seen
    if id(obj) in seen or obj is None or isinstance(obj, bool | type) or hasattr(obj, "_value_"):
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(deep_size(k, seen) + deep_size(v, seen) for k, v in obj.items())
    elif isinstance(obj, tuple | list | set | frozenset):
        size += sum(deep_size(v, seen) for v in obj)
    for slot in getattr(type(obj), "__slots__", ()):
        size += deep_size(getattr(obj, slot, None), seen)
    return size


def run(
    *,
    positions: int = 10_000,
    fence_counts: Sequence[int] = (1000, 10_000, 100_000),
    seed: int = 0,
    postgis_url: str | None = None,
    bruteforce_budget_s: float = 3.0,
) -> dict[str, Any]:
    """Run the benchmark; returns a JSON-able dict (see the module docstring for the convention)."""
    rng = np.random.default_rng(seed)
    result: dict[str, Any] = {
        "positions": positions,
        "convention": "checks/s = positions x fences / seconds to decide the batch",
        "checks_per_s": {},
        "build_s": {},
        "batch_s": {},
        "candidate_pairs": {},
        "pipeline_positions_per_s": {},
        "bruteforce_checks_per_s": {},
        "bruteforce_sampled_positions": {},
        "device_state_bytes": device_state_bytes(),
    }
    postgis: dict[str, float] = {}
    postgis_note = "no database URL given" if postgis_url is None else None
    for count in fence_counts:
        key = str(count)
        fences = synthetic_fences(count, rng)
        lat, lon, acc = synthetic_positions(positions, fences, rng)
        start = time.perf_counter()
        index = FenceIndex.build(fences)
        result["build_s"][key] = round(time.perf_counter() - start, 4)
        seconds = _best(lambda index=index, lat=lat, lon=lon, acc=acc: index.evaluate(lat, lon, acc))
        result["checks_per_s"][key] = positions * count / seconds
        result["batch_s"][key] = seconds
        result["candidate_pairs"][key] = int(index.evaluate(lat, lon, acc).position.size)
        result["pipeline_positions_per_s"][key] = _pipeline(index, lat, lon, acc)
        rate, sampled = _bruteforce(index, lat, lon, acc, bruteforce_budget_s)
        result["bruteforce_checks_per_s"][key] = rate
        result["bruteforce_sampled_positions"][key] = sampled
        if postgis_url is not None and postgis_note is None:
            try:
                postgis[key] = _postgis(postgis_url, fences, lat, lon, acc)
            except _PostgisUnavailable as exc:
                postgis_note = str(exc)
    if postgis:
        result["postgis_checks_per_s"] = postgis
    if postgis_note:
        result["postgis_skipped"] = postgis_note
    return result


class _PostgisUnavailable(Exception):
    pass


def _postgis(url: str, fences: Sequence[Fence], lat: Any, lon: Any, acc: Any) -> float:
    """Checks/s of the same batch as one PostGIS join, in a scratch database."""
    # The benchmark is a tool, not the detector core: psycopg is imported here, lazily, so that
    # importing geofence never loads a database driver.
    import psycopg

    name = f"lw_bench_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(url, autocommit=True) as admin:
            if admin.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'").fetchone() is None:
                raise _PostgisUnavailable("the postgis extension is not installed on this server")
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        raise _PostgisUnavailable(f"cannot prepare a scratch database: {exc}") from exc
    try:
        scratch = psycopg.conninfo.make_conninfo(url, dbname=name)
        with psycopg.connect(scratch, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")
            conn.execute("CREATE TABLE f (id int, g geography, r double precision)")
            conn.execute("CREATE TABLE p (id int, g geography, acc double precision)")
            with conn.cursor().copy("COPY f (id, g, r) FROM STDIN") as copy:
                for f in fences:
                    copy.write_row((f.fence_id, f"SRID=4326;{f.geometry.wkt}", f.radius_m or 0.0))
            with conn.cursor().copy("COPY p (id, g, acc) FROM STDIN") as copy:
                for i in range(lat.size):
                    copy.write_row((i, f"SRID=4326;POINT({lon[i]} {lat[i]})", float(acc[i])))
            conn.execute("CREATE INDEX ON f USING gist (g)")
            conn.execute("ANALYZE f")
            conn.execute("ANALYZE p")
            # The first ST_DWithin has a per-position distance (largest radius + accuracy + margin)
            # so the GiST index can serve it; the second is the exact per-pair rule.
            widest = max((f.radius_m or 0.0) for f in fences) + 50.0
            query = f"""
                SELECT count(*) FROM p JOIN f
                    ON ST_DWithin(f.g, p.g, p.acc + {widest})
                   AND ST_DWithin(f.g, p.g, f.r + p.acc + 50)
            """
            seconds = _best(lambda: conn.execute(query).fetchone(), repeats=1)
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return float(len(fences) * lat.size / seconds)


def print_table(result: dict[str, Any]) -> None:
    """Print a benchmark result as a rich table."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Geofence checks/s, batch of {result['positions']:,} positions")
    columns = ("fences", "index M/s", "batch ms", "build s", "pairs", "brute M/s (n)", "PostGIS M/s")
    for column in columns:
        table.add_column(column, justify="right")
    postgis = result.get("postgis_checks_per_s", {})
    for key, rate in result["checks_per_s"].items():
        table.add_row(
            f"{int(key):,}",
            f"{rate / 1e6:,.0f}",
            f"{result['batch_s'][key] * 1e3:.1f}",
            f"{result['build_s'][key]:.2f}",
            f"{result['candidate_pairs'][key]:,}",
            f"{result['bruteforce_checks_per_s'][key] / 1e6:,.1f} ({result['bruteforce_sampled_positions'][key]})",
            f"{postgis[key] / 1e6:,.1f}" if key in postgis else "-",
        )
    console = Console()
    console.print(table)
    console.print(f"{result['convention']} (M/s = millions); (n) = positions sampled by the brute force")
    console.print(f"device state inside two fences: {result['device_state_bytes']} bytes")
    pipeline = ", ".join(f"{int(k):,} fences {v:,.0f}/s" for k, v in result["pipeline_positions_per_s"].items())
    console.print(f"positions through evaluate_batch (index + state machine): {pipeline}")
    if "postgis_skipped" in result:
        console.print(f"PostGIS skipped: {result['postgis_skipped']}")
