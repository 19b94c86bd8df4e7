"""What every scenario is made of: its casting, a runner that lays the car's life, and shared steps."""

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from domain.geo import haversines_m
from domain.vocabulary import AlertKind
from simulators.cities import REGIONS
from simulators.fleet import Casting, Member
from simulators.geo import FloatArray
from simulators.labels import Label
from simulators.routine import DAY_S, HOUR_S, live, local_midnight
from simulators.track import BoolArray, Track, TrackBuilder
from simulators.trackers import Fixes, sample, wired_fixes, wireless_fixes


class ScenarioError(ValueError):
    """A scenario cannot be laid out in the simulated period (too short, no place found)."""


@dataclass(frozen=True, slots=True)
class Context:
    """The simulated period and the device-table indices of one member's trackers."""

    start: int
    end: int
    wired: int
    wireless: int | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """A member's simulated life: its true track, what its trackers reported, and its labels."""

    track: Track
    fixes: Fixes
    labels: tuple[Label, ...] = ()


Runner = Callable[[Member, Context, np.random.Generator], Outcome]


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    casting: Casting
    min_days: int
    run: Runner
    negative: bool = False
    summary: str = ""


def begin(member: Member, ctx: Context) -> TrackBuilder:
    """A builder with the car parked at home at the start of the period."""
    home = member.places.home
    return TrackBuilder(ctx.start, home[0], home[1])


def live_until(builder: TrackBuilder, member: Member, until: int, rng: np.random.Generator) -> None:
    """Ordinary life from the builder's time to `until`."""
    live(builder, city=member.city, places=member.places, profile=member.profile, until=until, rng=rng)


def report(
    member: Member,
    ctx: Context,
    track: Track,
    rng: np.random.Generator,
    *,
    accuracy: tuple[float, float] = (4.0, 15.0),
    coarse_share: float = 0.25,
) -> tuple[Fixes, Fixes | None]:
    """The wired (and wireless, when fitted) fixes of a track."""
    wired = wired_fixes(track, member, ctx.wired, ctx.start, ctx.end, rng, accuracy=accuracy)
    if member.wireless is None or ctx.wireless is None:
        return wired, None
    return wired, wireless_fixes(track, member, ctx.wireless, ctx.start, ctx.end, rng, coarse_share=coarse_share)


def combine(wired: Fixes, wireless: Fixes | None) -> Fixes:
    """Both devices' fixes, sorted by device then time."""
    return (wired if wireless is None else Fixes.concat([wired, wireless])).sorted()


def pick_time(ctx: Context, rng: np.random.Generator, lo_h: float, hi_h: float, *, lead_s: int, tail_s: int) -> int:
    """A random time between lo_h and hi_h local on some day, lead_s after start and tail_s before end."""
    candidates = []
    day0 = local_midnight(ctx.start)
    while day0 < ctx.end:
        lo, hi = day0 + int(lo_h * HOUR_S), day0 + int(hi_h * HOUR_S)
        lo, hi = max(lo, ctx.start + lead_s), min(hi, ctx.end - tail_s)
        if lo < hi:
            candidates.append((lo, hi))
        day0 += DAY_S
    if not candidates:
        raise ScenarioError(f"no {lo_h:g}-{hi_h:g} h slot with {lead_s} s lead and {tail_s} s tail in the period")
    lo, hi = candidates[int(rng.integers(0, len(candidates)))]
    return int(rng.integers(lo, hi))


def first_time(track: Track, t0: int, t1: int, test: Callable[[FloatArray, FloatArray], BoolArray]) -> int | None:
    """The first whole second in [t0, t1] at which the true position passes the (vectorised) test."""
    times = np.arange(t0, t1 + 1, dtype=np.int64)
    hits = np.flatnonzero(test(*track.positions(times)))
    return int(times[hits[0]]) if len(hits) else None


def outside(lat: float, lon: float, radius_m: float) -> Callable[[FloatArray, FloatArray], BoolArray]:
    """A test for first_time: farther than radius_m from the point."""
    return lambda a, b: np.asarray(haversines_m(lat, lon, a, b) > radius_m)


def label(
    member: Member, scenario: str, kind: AlertKind | None, start: int, end: int, device_id: str | None = None
) -> Label:
    """A label for this member's loan."""
    return Label(scenario, kind, member.loan.loan_id, member.vehicle.vin, device_id, start, end, kind is None)


def region_exit_label(member: Member, scenario: str, track: Track, t0: int, t1: int) -> Label | None:
    """A region_exit label from the moment the car first leaves its bound region in [t0, t1]."""
    region = REGIONS[member.loan.bound_region or ""]
    t_out = first_time(track, t0, t1, outside(region.lat, region.lon, region.radius_m))
    if t_out is None:
        return None
    # Leaving is confirmed on a second fix outside or after 5 minutes (DESIGN: leaving a fence).
    return label(member, scenario, AlertKind.REGION_EXIT, t_out, t_out + 1800)


def ordinary(member: Member, ctx: Context, rng: np.random.Generator) -> Outcome:
    """A car living its routine, nothing to report."""
    b = begin(member, ctx)
    live_until(b, member, ctx.end, rng)
    track = b.build(ctx.end)
    return Outcome(track, combine(*report(member, ctx, track, rng)))


def with_event(
    fixes: Fixes,
    track: Track,
    t: int,
    device: int,
    rng: np.random.Generator,
    *,
    alarms: int = 0,
    power_v: float | None = None,
) -> Fixes:
    """The fixes plus one event fix (an alarm, a reconnect) at time t; an existing fix at t is replaced."""
    event = sample(track, np.asarray([t], dtype=np.int64), device, rng)
    if alarms:
        event = dataclasses.replace(event, alarms=np.asarray([alarms], dtype=np.int8))
    if power_v is not None:
        event = dataclasses.replace(event, power_v=np.asarray([power_v]))
    keep = ~((fixes.device == device) & (fixes.t == t))
    return Fixes.concat([fixes.take(keep), event]).sorted()


def without(fixes: Fixes, device: int, t0: int, t1: int) -> Fixes:
    """The fixes minus those of `device` in [t0, t1)."""
    return fixes.take(~((fixes.device == device) & (fixes.t >= t0) & (fixes.t < t1)))
