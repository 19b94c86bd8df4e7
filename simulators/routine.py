"""Daily life of an ordinary car: commutes, errands, weekends and nights parked at home.

A day is planned as a list of (leave at, go to) pairs in local time (Asia/Shanghai); `live` walks
those plans forward from wherever the builder stands, so a scenario can interrupt a car's life and
hand it back (from a new home after a relocation, say). Every day has at least one outing, so no
ordinary car stands still for 24 h: an info-level long_idle on an ordinary car is a false alert.
"""

import numpy as np

from simulators.fleet import Places, Profile
from simulators.routes import Point, drive_speed, route, safe_place
from simulators.track import TrackBuilder

# Asia/Shanghai is UTC+8 all year (no daylight saving since 1991), so a constant offset is exact.
LOCAL_OFFSET_S = 8 * 3600
DAY_S = 86_400
HOUR_S = 3600

Plan = list[tuple[int, Point]]


def local_midnight(t: int) -> int:
    """Epoch seconds of the local (UTC+8) midnight starting the day that contains t."""
    return (t + LOCAL_OFFSET_S) // DAY_S * DAY_S - LOCAL_OFFSET_S


def local_hour(t: int) -> float:
    """Local time of day of t, in hours."""
    return ((t + LOCAL_OFFSET_S) % DAY_S) / HOUR_S


def weekday(day0: int) -> int:
    """Monday = 0 … Sunday = 6 for the local day starting at day0 (1970-01-01 was a Thursday)."""
    return ((day0 + LOCAL_OFFSET_S) // DAY_S + 3) % 7


def _at(day0: int, rng: np.random.Generator, lo_h: float, hi_h: float) -> int:
    return day0 + int(rng.uniform(lo_h, hi_h) * HOUR_S)


def _commuter_day(day0: int, places: Places, rng: np.random.Generator) -> Plan:
    fav = places.favourites
    plan: Plan = []
    if weekday(day0) < 5:
        plan.append((_at(day0, rng, 7.3, 9.0), places.work))
        leave = _at(day0, rng, 17.5, 19.0)
        if rng.random() < 0.3:
            plan.append((leave, fav[int(rng.integers(0, len(fav)))]))
            leave += int(rng.uniform(0.8, 1.5) * HOUR_S)
        plan.append((leave, places.home))
        if rng.random() < 0.2:
            plan.append((_at(day0, rng, 20.5, 21.0), fav[int(rng.integers(0, len(fav)))]))
            plan.append((_at(day0, rng, 21.8, 22.3), places.home))
    else:
        plan.append((_at(day0, rng, 9.5, 11.0), fav[int(rng.integers(0, len(fav)))]))
        plan.append((_at(day0, rng, 12.3, 13.5), places.home))
        if rng.random() < 0.6:
            plan.append((_at(day0, rng, 14.5, 15.5), fav[int(rng.integers(0, len(fav)))]))
            plan.append((_at(day0, rng, 17.5, 19.0), places.home))
    return plan


def _taxi_day(day0: int, city: str, places: Places, rng: np.random.Generator) -> Plan:
    # A heavy user: back-to-back fares from early morning to late evening, all over the city.
    t = _at(day0, rng, 6.0, 7.0)
    stop = day0 + int(rng.uniform(22.0, 23.0) * HOUR_S)
    plan: Plan = []
    while t < stop:
        plan.append((t, safe_place(city, rng)))
        t += int(rng.uniform(0.4, 0.9) * HOUR_S)
    plan.append((t, places.home))
    return plan


def day_plan(day0: int, city: str, places: Places, profile: Profile, rng: np.random.Generator) -> Plan:
    """The (leave at, destination) pairs of one local day."""
    if profile == "taxi":
        return _taxi_day(day0, city, places, rng)
    return _commuter_day(day0, places, rng)


def drive_to(builder: TrackBuilder, dest: Point, rng: np.random.Generator) -> None:
    """Drive from where the builder stands to dest along a zone-clear route."""
    a = builder.where
    points = route(a, dest, rng)
    length = sum(
        abs(p[0] - q[0]) * 111_000 + abs(p[1] - q[1]) * 95_000 for p, q in zip([a, *points], points, strict=False)
    )
    builder.drive(points, drive_speed(length, rng))


def live(
    builder: TrackBuilder,
    *,
    city: str,
    places: Places,
    profile: Profile,
    until: int,
    rng: np.random.Generator,
) -> None:
    """Follow the daily routine from the builder's time to `until` (the last trip may end later)."""
    day0 = local_midnight(builder.now)
    while day0 < until:
        for leave_at, dest in day_plan(day0, city, places, profile, rng):
            if leave_at <= builder.now:
                continue
            if leave_at >= until:
                builder.stay_until(until)
                return
            builder.stay_until(leave_at)
            drive_to(builder, dest, rng)
        day0 += DAY_S
    builder.stay_until(until)
