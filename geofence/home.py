"""Home cluster and relocation: where the car sleeps, and when it starts sleeping elsewhere.

Theory of operation. Overnight stays are stay points (staypoints.py) that cover at least
OVERNIGHT_MIN_S of a local night, 22:00–06:00 (DESIGN.md). The home cluster is the place with the
most distinct nights among the overnight stays of the last 30 days (DESIGN.md, after the Chinese
lenders' 常驻点): stays are grouped greedily, each joining the first group whose centre is within
HOME_RADIUS_M. Relocation is signalled when at least 2 distinct nights of the lookback were spent
more than 80 km from home (DESIGN.md; Spireon treats > 50 mi as flight risk), or when the car has
been clearly outside its bound region for 24 h (regions.py, fence margin rules).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from domain.ids import FenceId
from geofence.hours import DEFAULT_TIMEZONE
from geofence.index import FenceIndex
from geofence.projection import distance_m
from geofence.regions import Region
from geofence.signals import Fix, Relocation, RelocationReason
from geofence.staypoints import StayPoint

NIGHT_START: Final = time(22, 0)  # DESIGN.md: overnight is 22:00–06:00 local
NIGHT_END: Final = time(6, 0)
# Our choice, not DESIGN.md's: a stay must cover 2 of the 8 night hours to count as a night's
# stay, so a late dinner that ends at 22:30 does not.
OVERNIGHT_MIN_S: Final = 2 * 3600
HOME_WINDOW_S: Final = 30 * 86400  # DESIGN.md: over the last 30 days
HOME_RADIUS_M: Final = 200.0  # the stay-point radius (Li et al. 2008)
RELOCATION_DISTANCE_M: Final = 80_000.0  # DESIGN.md
RELOCATION_NIGHTS: Final = 2  # DESIGN.md
# Our choice: far nights count within the last 7 days, so two trips a month apart are not a move.
RELOCATION_LOOKBACK_S: Final = 7 * 86400
OUTSIDE_REGION_S: Final = 24 * 3600  # DESIGN.md


@dataclass(frozen=True, slots=True)
class Home:
    """The home cluster: its centre, how many distinct nights and stays it holds."""

    lat: float
    lon: float
    nights: int
    stays: int


def nights_of(stay: StayPoint, timezone: str = DEFAULT_TIMEZONE) -> list[date]:
    """The evening dates of every local night this stay covers for >= OVERNIGHT_MIN_S (a car
    parked for three days covers three nights)."""
    zone = ZoneInfo(timezone)
    arrived, left = stay.arrived.astimezone(zone), stay.left.astimezone(zone)
    out = []
    day = arrived.date() - timedelta(days=1)
    while day <= left.date():
        start = datetime.combine(day, NIGHT_START, zone)
        end = datetime.combine(day + timedelta(days=1), NIGHT_END, zone)
        if (min(end, left) - max(start, arrived)).total_seconds() >= OVERNIGHT_MIN_S:
            out.append(day)
        day += timedelta(days=1)
    return out


def night_of(stay: StayPoint, timezone: str = DEFAULT_TIMEZONE) -> date | None:
    """The evening date of the first local night this stay covers for >= OVERNIGHT_MIN_S, if any."""
    nights = nights_of(stay, timezone)
    return nights[0] if nights else None


def home_cluster(stays: Sequence[StayPoint], *, now: datetime, timezone: str = DEFAULT_TIMEZONE) -> Home | None:
    """The most frequent overnight stay area of the 30 days before now (None without any)."""
    since = now - timedelta(seconds=HOME_WINDOW_S)
    groups: list[tuple[list[StayPoint], set[date]]] = []
    for stay in sorted(stays, key=lambda s: s.arrived):
        covered = nights_of(stay, timezone)
        if not covered or stay.left < since or stay.arrived > now:
            continue
        for members, nights in groups:
            c_lat = float(np.mean([m.lat for m in members]))
            c_lon = float(np.mean([m.lon for m in members]))
            if float(distance_m(c_lat, c_lon, stay.lat, stay.lon)) <= HOME_RADIUS_M:
                members.append(stay)
                nights.update(covered)
                break
        else:
            groups.append(([stay], set(covered)))
    if not groups:
        return None
    members, nights = max(groups, key=lambda g: (len(g[1]), sum(s.duration_s for s in g[0])))
    return Home(
        lat=float(np.mean([m.lat for m in members])),
        lon=float(np.mean([m.lon for m in members])),
        nights=len(nights),
        stays=len(members),
    )


def overnight_far(
    stays: Sequence[StayPoint], home: Home, *, now: datetime, timezone: str = DEFAULT_TIMEZONE
) -> Relocation | None:
    """Relocation when >= 2 distinct nights of the last 7 days were spent > 80 km from home."""
    since = now - timedelta(seconds=RELOCATION_LOOKBACK_S)
    far: dict[date, StayPoint] = {}
    for stay in sorted(stays, key=lambda s: s.arrived):
        if stay.left < since or stay.arrived > now:
            continue
        if float(distance_m(home.lat, home.lon, stay.lat, stay.lon)) <= RELOCATION_DISTANCE_M:
            continue
        for night in nights_of(stay, timezone):
            far.setdefault(night, stay)
    if len(far) < RELOCATION_NIGHTS:
        return None
    zone = ZoneInfo(timezone)
    # Each far night as the moment it counted: OVERNIGHT_MIN_S into the night (or the stay).
    counted = []
    for n in sorted(far):
        stay = far[n]
        began = max(stay.arrived, datetime.combine(n, NIGHT_START, zone).astimezone(stay.arrived.tzinfo))
        counted.append((began + timedelta(seconds=OVERNIGHT_MIN_S), stay))
    evidence = tuple(Fix(at, s.lat, s.lon) for at, s in counted)
    return Relocation(
        RelocationReason.OVERNIGHT_FAR,
        at=counted[RELOCATION_NIGHTS - 1][0],
        evidence=evidence,
        threshold_m=RELOCATION_DISTANCE_M,
    )


def outside_region(
    ts: Sequence[datetime],
    lat: npt.ArrayLike,
    lon: npt.ArrayLike,
    accuracy_m: npt.ArrayLike,
    coarse: npt.ArrayLike,
    region: Region,
) -> Relocation | None:
    """Relocation when decisive fixes stay clearly outside the region for >= 24 h (first such run)."""
    index = FenceIndex.build([region.as_fence(FenceId(0))])
    membership = index.evaluate(lat, lon, accuracy_m)
    clear = np.ones(len(ts), dtype=np.bool_)  # a fix the index did not return is far outside
    clear[membership.position] = membership.clear_out
    rough = np.asarray(coarse, dtype=np.bool_)
    la, lo = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
    first: int | None = None
    for i in np.argsort(np.asarray([t.timestamp() for t in ts]), kind="stable"):
        if rough[i]:
            continue  # coarse fixes never decide: they neither start nor break a run
        if not clear[i]:
            first = None
            continue
        if first is None:
            first = int(i)
        if (ts[i] - ts[first]).total_seconds() >= OUTSIDE_REGION_S:
            evidence = (Fix(ts[first], float(la[first]), float(lo[first])), Fix(ts[i], float(la[i]), float(lo[i])))
            return Relocation(
                RelocationReason.OUTSIDE_REGION,
                at=ts[i],
                evidence=evidence,
                threshold_s=OUTSIDE_REGION_S,
                region_id=region.region_id,
            )
    return None
