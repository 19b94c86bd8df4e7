"""Messy delivery: what real networks and firmware do to a clean stream of fixes.

Duplicates (QoS 1 redelivery), out-of-order arrival, buffered backfill arrays after a coverage gap,
malformed payloads and device clock skew. Fix times never change except by a device's skew, and
skew is only ever negative (clock behind), so no fix is stamped in the future of the simulation's end.
Backfill and skew are applied only to devices not in a scenario: late data is evaluated "without
raising alerts for situations already over" (DESIGN), which would blur a scenario's ground truth.
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from simulators.payloads import MALFORMED, Schedule
from simulators.trackers import Fixes

ARRAY_MAX = 50  # fixes per buffered upload, well under the ingest payload limit


@dataclass(frozen=True, slots=True)
class Messiness:
    duplicate_rate: float = 0.01
    reorder_rate: float = 0.01
    reorder_delay_s: tuple[int, int] = (30, 600)
    backfill_share: float = 0.05  # of eligible devices: one coverage gap each
    backfill_gap_s: tuple[int, int] = (1200, 7200)
    malformed_rate: float = 0.002
    skew_share: float = 0.03  # of eligible devices
    skew_s: tuple[int, int] = (-600, -5)


def disorder(
    fixes: Fixes, devices: int, eligible: npt.NDArray[np.bool_], opts: Messiness, rng: np.random.Generator
) -> Schedule:
    """A messy schedule for these fixes; `eligible` marks devices that may be backfilled or skewed."""
    base = Schedule.clean(fixes, devices)
    n = len(fixes)
    publish_t = base.publish_t.copy()
    group = base.group.copy()

    # Backfill: every fix of a device inside its gap goes out in arrays when coverage returns.
    next_group = 0
    for d in np.flatnonzero(eligible & (rng.random(devices) < opts.backfill_share)).tolist():
        own = np.flatnonzero(fixes.device == d)
        if len(own) < 10:
            continue
        t0 = int(fixes.t[own[int(rng.integers(0, len(own) // 2))]])
        t1 = t0 + int(rng.integers(*opts.backfill_gap_s))
        gap = own[(fixes.t[own] >= t0) & (fixes.t[own] < t1)]
        for chunk_start in range(0, len(gap), ARRAY_MAX):
            chunk = gap[chunk_start : chunk_start + ARRAY_MAX]
            publish_t[chunk] = t1
            group[chunk] = next_group
            next_group += 1

    # Out of order: a few single fixes arrive minutes late.
    late = (rng.random(n) < opts.reorder_rate) & (group < 0)
    publish_t[late] += rng.integers(*opts.reorder_delay_s, size=int(late.sum()))

    # Duplicates and malformed copies are extra entries pointing at existing rows.
    dup = np.flatnonzero((rng.random(n) < opts.duplicate_rate) & (group < 0))
    bad = np.flatnonzero(rng.random(n) < opts.malformed_rate)
    rows = np.concatenate([base.row, dup, bad])
    publish_t = np.concatenate([publish_t, publish_t[dup] + rng.integers(1, 120, len(dup)), publish_t[bad]])
    group = np.concatenate([group, np.full(len(dup) + len(bad), -1, dtype=np.int64)])
    variant = np.concatenate(
        [
            base.bad,
            np.full(len(dup), -1, dtype=np.int8),
            rng.integers(0, len(MALFORMED), len(bad)).astype(np.int8),
        ]
    )

    skewed = eligible & (rng.random(devices) < opts.skew_share)
    offset = np.where(skewed, rng.integers(opts.skew_s[0], opts.skew_s[1] + 1, devices), 0).astype(np.int64)
    return Schedule(rows, publish_t, group, variant, offset)
