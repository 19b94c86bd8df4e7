"""The benchmark runs small and reports in the documented shape."""

import json

from benchmarks import geofence as bench


def test_small_benchmark_reports_every_key() -> None:
    result = bench.run(positions=200, fence_counts=(50, 500), seed=1, bruteforce_budget_s=0.05)
    json.dumps(result)  # JSON-able
    assert set(result["checks_per_s"]) == {"50", "500"}
    assert all(rate > 0 for rate in result["checks_per_s"].values())
    assert set(result["bruteforce_checks_per_s"]) == {"50", "500"}
    assert "postgis_checks_per_s" not in result and result["postgis_skipped"]
    assert 0 < result["device_state_bytes"] < 1024


def test_index_decides_the_same_pairs_as_the_brute_force() -> None:
    import numpy as np

    rng = np.random.default_rng(3)
    fences = bench.synthetic_fences(300, rng)
    lat, lon, acc = bench.synthetic_positions(400, fences, rng)
    index = bench.FenceIndex.build(fences)
    m = index.evaluate(lat, lon, acc)
    rows = np.arange(len(fences))
    inside_pairs = {(int(p), int(f)) for p, f in zip(m.position[m.inside], m.fence[m.inside], strict=True)}
    brute_pairs = set()
    for p in range(lat.size):
        inside, _, _, _ = index.measure(
            np.full(rows.size, lat[p]), np.full(rows.size, lon[p]), np.full(rows.size, acc[p]), rows
        )
        brute_pairs |= {(p, int(f)) for f in np.flatnonzero(inside)}
    assert inside_pairs == brute_pairs and len(inside_pairs) > 50
