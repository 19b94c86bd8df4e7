"""The index agrees with PostGIS (geography, spheroid distances) where the extension is installed."""

from collections.abc import Iterator

import numpy as np
import psycopg
import pytest

from benchmarks import geofence as bench
from geofence.index import MARGIN_M, FenceIndex
from tests.conftest import ADMIN_URL, create_database, drop_database

pytestmark = pytest.mark.db


@pytest.fixture
def postgis_db(pg_available: None) -> Iterator[str]:
    with psycopg.connect(ADMIN_URL) as conn:
        row = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'").fetchone()
    if row is None:
        pytest.skip("postgis is not installed (Debian: postgresql-15-postgis-3)")
    url = create_database("lw_postgis")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION postgis")
    yield url
    drop_database(url)


def test_inside_and_clear_out_agree_with_st_dwithin(postgis_db: str) -> None:
    rng = np.random.default_rng(11)
    fences = bench.synthetic_fences(400, rng)
    lat, lon, acc = bench.synthetic_positions(2000, fences, rng)
    index = FenceIndex.build(fences)
    m = index.evaluate(lat, lon, acc)
    with psycopg.connect(postgis_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE f (row int, g geography, r double precision)")
        conn.execute("CREATE TABLE p (row int, g geography, acc double precision)")
        with conn.cursor().copy("COPY f FROM STDIN") as copy:
            for i, fence in enumerate(fences):
                copy.write_row((i, f"SRID=4326;{fence.geometry.wkt}", fence.radius_m or 0.0))
        with conn.cursor().copy("COPY p FROM STDIN") as copy:
            for i in range(lat.size):
                copy.write_row((i, f"SRID=4326;POINT({lon[i]} {lat[i]})", float(acc[i])))
        # Distance beyond the boundary minus accuracy, on the WGS-84 spheroid.
        rows = conn.execute(
            """
            SELECT p.row, f.row, ST_Distance(f.g, p.g) - f.r - p.acc AS excess
              FROM p JOIN f ON ST_DWithin(f.g, p.g, f.r + p.acc + %s)
            """,
            (MARGIN_M + 500,),
        ).fetchall()
    postgis = {(int(a), int(b)): float(e) for a, b, e in rows}
    ours = {
        (int(a), int(b)): (bool(i), bool(c))
        for a, b, i, c in zip(m.position, m.fence, m.inside, m.clear_out, strict=True)
    }
    compared = 0
    for pair, excess in postgis.items():
        if abs(excess) < 0.5 or abs(excess - MARGIN_M) < 0.5:
            continue  # equirectangular vs spheroid: centimetres apart, not across a threshold
        assert ours.get(pair, (False, True)) == (excess < 0, excess > MARGIN_M), (pair, excess)
        compared += 1
    # every pair we call inside or in the band is one PostGIS finds near
    for pair, (inside, clear) in ours.items():
        if inside or not clear:
            assert pair in postgis, pair
    assert compared > 500
