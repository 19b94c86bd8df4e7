"""Stay points: where a vehicle stood still, after Li et al. 2008.

Li, Zheng, Xie, Chen, Liu, Ma, "Mining user similarity based on location history" (ACM GIS 2008),
Algorithm StayPoint-Detection: from an anchor fix, extend while fixes stay within distThreh of the
anchor; if the run lasts at least timeThreh it is a stay point (mean position, arrival and leaving
times) and the next anchor is the first fix beyond; otherwise the anchor moves one fix on. The
thresholds here are the paper's and the brief's: 200 m and 20 min. Two deliberate deviations: the
run ends at the last fix within the radius (the paper takes the first fix beyond it, which inflates
the stay by one reporting interval and pulls the mean toward the exit), and a run still open at the
end of the data counts, so last night's stay is not lost.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import numpy as np
import numpy.typing as npt

from geofence.projection import distance_m

Floats = npt.NDArray[np.float64]

STAY_RADIUS_M: Final = 200.0  # Li et al. 2008 distThreh; DESIGN.md "stopped ... within 200 m"
STAY_MIN_S: Final = 20 * 60  # Li et al. 2008 timeThreh, 20 min
_FIRST_WINDOW: Final = 32


@dataclass(frozen=True, slots=True)
class StayPoint:
    """A place the vehicle stood: mean position, first and last fix time, how many fixes."""

    lat: float
    lon: float
    arrived: datetime
    left: datetime
    fixes: int

    @property
    def duration_s(self) -> float:
        """Seconds from the first to the last fix of the stay."""
        return (self.left - self.arrived).total_seconds()


def _first_beyond(lat: Floats, lon: Floats, anchor: int, radius_m: float) -> int:
    """Index of the first fix after anchor farther than radius_m from it (len(lat) if none)."""
    n = lat.size
    start = anchor + 1
    window = _FIRST_WINDOW
    while start < n:
        stop = min(n, start + window)
        far = distance_m(lat[anchor], lon[anchor], lat[start:stop], lon[start:stop]) > radius_m
        if far.any():
            return start + int(np.argmax(far))
        start, window = stop, window * 2
    return n


def stay_points(
    ts: npt.ArrayLike,
    lat: npt.ArrayLike,
    lon: npt.ArrayLike,
    *,
    radius_m: float = STAY_RADIUS_M,
    min_duration_s: float = STAY_MIN_S,
) -> list[StayPoint]:
    """Stay points of one device's fixes (epoch seconds, degrees), sorted by time; coarse fixes removed."""
    t = np.asarray(ts, dtype=np.float64)
    la = np.asarray(lat, dtype=np.float64)
    lo = np.asarray(lon, dtype=np.float64)
    if t.size > 1 and np.any(np.diff(t) < 0):
        raise ValueError("ts: fixes must be in time order")
    stays: list[StayPoint] = []
    i, n = 0, t.size
    # A fix whose next one is already beyond the radius starts a run of one fix: no stay, move on.
    # Tested for the whole track at once (a driving car is most of its fixes), with a hair of slack
    # so the windowed measure below could not disagree at the boundary.
    lone = (
        (distance_m(la[:-1], lo[:-1], la[1:], lo[1:]) > radius_m * (1 + 1e-9)).tolist()
        if n > 1 and min_duration_s > 0
        else []
    )
    while i < n:
        if i < len(lone) and lone[i]:
            i += 1
            continue
        j = _first_beyond(la, lo, i, radius_m)
        last = j - 1
        if t[last] - t[i] >= min_duration_s:
            stays.append(
                StayPoint(
                    lat=float(la[i:j].mean()),
                    lon=float(lo[i:j].mean()),
                    arrived=datetime.fromtimestamp(float(t[i]), UTC),
                    left=datetime.fromtimestamp(float(t[last]), UTC),
                    fixes=j - i,
                )
            )
            i = j
        else:
            i += 1
    return stays

