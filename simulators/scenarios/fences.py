"""Scenarios at fence edges: passing a risk zone, parking just beyond one, weaving along the bound
region's border, and leaving the region then falling silent.

They are the situations a fence rule tuned on clean visits gets wrong: a single fix inside while
driving by, a visit that never ends for a car parked in the hysteresis band, one alert per dip
across a border, an exit that needs a next fix to be confirmed. Label windows come from the laid
track, as in movement.py.
"""

import itertools
import math

import numpy as np

from domain.vocabulary import RiskZoneType
from simulators.cities import CITIES, REGIONS, RISK_ZONES, BoundRegion, zones_in
from simulators.fleet import Casting, Member
from simulators.geo import destination, segment_clearance_m
from simulators.routes import PATH_GAP_M, Point
from simulators.routine import HOUR_S, drive_to
from simulators.scenarios.base import (
    Context,
    Outcome,
    Scenario,
    ScenarioError,
    begin,
    combine,
    first_time,
    label,
    live_until,
    outside,
    pick_time,
    region_exit_label,
    report,
    with_event,
    without,
)

PASS_KMH = (30.0, 55.0)  # passing traffic, ignition on
BAND_MIN_M, BAND_MAX_M = 180.0, 190.0  # parking spot from a 120 m fence's centre: 60-70 m beyond its edge
BAND_ACCURACY = (10.0, 25.0)  # urban-canyon drift, as beside the pawn shop
EXCURSION_S = (135.0, 225.0)  # a dip across the border: 2-4 min, with room for the drawn geometry
INSIDE_S = (150.0, 300.0)  # back in the region between dips
INNER_M = 21_000.0  # any two points this close to the centre are joined by routes inside every region

_ZLAT = np.asarray([z.lat for z in RISK_ZONES])
_ZLON = np.asarray([z.lon for z in RISK_ZONES])
_ZR = np.asarray([z.radius_m for z in RISK_ZONES])


def drive_by_risk_zone(member: Member, ctx: Context, rng: np.random.Generator) -> Outcome:
    """Drives straight through a risk zone's fence at 30-55 km/h with the ignition on, not stopping."""
    zones = zones_in(member.city)
    zone = zones[int(rng.integers(0, len(zones)))]
    bearing = float(rng.uniform(0.0, 360.0))
    # A chord through the fence, up to half a radius off its centre.
    centre = destination(zone.lat, zone.lon, bearing + 90.0, float(rng.uniform(-0.5, 0.5)) * zone.radius_m)
    near = destination(*centre, bearing + 180.0, zone.radius_m + 1_100.0)
    far = destination(*centre, bearing, zone.radius_m + 1_100.0)
    speed = float(rng.uniform(*PASS_KMH))
    when = pick_time(ctx, rng, 8.0, 19.0, lead_s=3 * HOUR_S, tail_s=3 * HOUR_S)
    b = begin(member, ctx)
    live_until(b, member, when, rng)
    b.stay_until(when)
    drive_to(b, near, rng)
    t_from = b.now
    b.drive([far], speed)
    t_to = b.now
    live_until(b, member, ctx.end, rng)
    track = b.build(ctx.end)
    if first_time(track, t_from, t_to, lambda a, c: ~outside(zone.lat, zone.lon, zone.radius_m)(a, c)) is None:
        raise ScenarioError(f"drive_by_risk_zone: the track never crossed {zone.zone_id}")
    labels = (label(member, "drive_by_risk_zone", None, t_from, t_to + 1800),)
    return Outcome(track, combine(*report(member, ctx, track, rng)), labels)


def parks_in_fence_band(member: Member, ctx: Context, rng: np.random.Generator) -> Outcome:
    """Drives across a pawn shop's 120 m fence and parks 180-190 m from its centre for 3-6 h."""
    zones = [z for z in zones_in(member.city, RiskZoneType.PAWN_SHOP) if z.radius_m == 120.0]
    if not zones:
        raise ScenarioError(f"parks_in_fence_band: no 120 m pawn shop fence in {member.city}")
    zone = zones[int(rng.integers(0, len(zones)))]
    bearing = float(rng.uniform(0.0, 360.0))
    spot = destination(zone.lat, zone.lon, bearing, float(rng.uniform(BAND_MIN_M, BAND_MAX_M)))
    # In over the fence from the far side (passing its centre), out radially on the spot's side.
    entry = destination(zone.lat, zone.lon, bearing + 180.0, zone.radius_m + 1_100.0)
    leave = destination(zone.lat, zone.lon, bearing, zone.radius_m + 1_100.0)
    stay_s = int(rng.uniform(3.0, 6.0) * HOUR_S)
    visit = pick_time(ctx, rng, 9.0, 13.0, lead_s=3 * HOUR_S, tail_s=stay_s + 2 * HOUR_S)
    b = begin(member, ctx)
    live_until(b, member, visit, rng)
    b.stay_until(visit)
    drive_to(b, entry, rng)
    t_from = b.now
    b.drive([(zone.lat, zone.lon), spot], float(rng.uniform(PASS_KMH[0], 45.0)))
    b.stay_until(b.now + stay_s)
    b.drive([leave], 15.0)
    t_to = b.now
    live_until(b, member, ctx.end, rng)
    track = b.build(ctx.end)
    wired, wireless = report(member, ctx, track, rng, accuracy=BAND_ACCURACY)
    labels = (label(member, "parks_in_fence_band", None, t_from, t_to),)
    return Outcome(track, combine(wired, wireless), labels)


def border_weave(member: Member, ctx: Context, rng: np.random.Generator) -> Outcome:
    """A trip along the bound region's border: 3-4 dips of 2-4 min across it, then out for good.

    One trip, one region_exit: the label for it opens when the car leaves for good; a negative
    label covers the weaving before, where any alert on the loan is a false one.
    """
    region = _region(member)
    depart = pick_time(ctx, rng, 9.0, 11.0, lead_s=3 * HOUR_S, tail_s=10 * HOUR_S)
    for _ in range(200):
        plan = _weave_plan(region, _toward(member, region) + rng.uniform(-30.0, 30.0), rng)
        if plan is not None:
            break
    else:
        raise ScenarioError(f"border_weave: no weave along {region.region_id} clears the risk zones")
    start, legs, away, back = plan
    b = begin(member, ctx)
    live_until(b, member, depart, rng)
    b.stay_until(depart)
    t_leave = b.now
    drive_to(b, start[0], rng)
    b.drive([start[1]], float(rng.uniform(40.0, 60.0)))
    t_weave = b.now
    for points, kmh in legs:
        b.drive(points, kmh)
    t_last_in = b.now
    b.drive(away[:2], float(rng.uniform(50.0, 70.0)))
    b.stay_until(b.now + int(rng.uniform(2.0, 4.0) * HOUR_S))
    b.drive([*back[:2]], float(rng.uniform(50.0, 70.0)))
    b.drive([back[2]], float(rng.uniform(50.0, 70.0)))
    t_back = b.now
    drive_to(b, member.places.home, rng)
    live_until(b, member, ctx.end, rng)
    track = b.build(ctx.end)
    exit_label = region_exit_label(member, "border_weave", track, t_last_in, t_back)
    if exit_label is None:
        raise ScenarioError("border_weave: the track never left the bound region")
    if first_time(track, t_leave, t_weave, outside(region.lat, region.lon, region.radius_m)) is not None:
        raise ScenarioError("border_weave: the way to the border left the region")
    labels = (label(member, "border_weave", None, t_weave, t_last_in), exit_label)
    return Outcome(track, combine(*report(member, ctx, track, rng)), labels)


def exit_then_silence(member: Member, ctx: Context, rng: np.random.Generator) -> Outcome:
    """Leaves the bound region and 2-7 min later its tracker falls silent for 3-5 h (cut, jammed,
    out of coverage) while the car stays 15-30 km outside; it reports again from there."""
    region = _region(member)
    for _ in range(200):
        bearing = _toward(member, region) + rng.uniform(-40.0, 40.0)
        inner = destination(region.lat, region.lon, bearing, INNER_M)
        edge = destination(region.lat, region.lon, bearing, region.radius_m - 2_000.0)
        dest = destination(region.lat, region.lon, bearing, region.radius_m + rng.uniform(15_000.0, 30_000.0))
        if _clear([inner, edge, dest]):
            break
    else:
        raise ScenarioError(f"exit_then_silence: no way out of {region.region_id} clear of the risk zones")
    depart = pick_time(ctx, rng, 9.0, 11.0, lead_s=3 * HOUR_S, tail_s=12 * HOUR_S)
    b = begin(member, ctx)
    live_until(b, member, depart, rng)
    b.stay_until(depart)
    t_leave = b.now
    drive_to(b, inner, rng)
    b.drive([edge, dest], float(rng.uniform(60.0, 90.0)))
    t_there = b.now
    silence_s = int(rng.uniform(3.0, 5.0) * HOUR_S)
    b.stay_until(t_there + silence_s + int(rng.uniform(1.0, 2.0) * HOUR_S))
    b.drive([edge, inner], float(rng.uniform(60.0, 90.0)))
    drive_to(b, member.places.home, rng)
    live_until(b, member, ctx.end, rng)
    track = b.build(ctx.end)
    t_out = first_time(track, t_leave, t_there, outside(region.lat, region.lon, region.radius_m))
    if t_out is None:
        raise ScenarioError("exit_then_silence: the track never left the bound region")
    t_quiet = t_out + int(rng.uniform(120.0, 420.0))
    t_speaks = t_quiet + silence_s
    fixes = without(combine(*report(member, ctx, track, rng)), ctx.wired, t_quiet, t_speaks)
    if ctx.wireless is not None:
        fixes = without(fixes, ctx.wireless, t_quiet, t_speaks)
    fixes = with_event(fixes, track, t_speaks, ctx.wired, rng)  # back in coverage: it reports at once
    exit_label = region_exit_label(member, "exit_then_silence", track, t_leave, t_quiet)
    if exit_label is None:
        raise ScenarioError("exit_then_silence: the track never left the bound region")
    return Outcome(track, fixes, (exit_label,))


def _region(member: Member) -> BoundRegion:
    return REGIONS[member.loan.bound_region or CITIES[member.city].region_id]


def _toward(member: Member, region: BoundRegion) -> float:
    """Bearing from the region's centre towards the car's home, degrees."""
    home = member.places.home
    east = (home[1] - region.lon) * math.cos(math.radians(region.lat))
    return float(np.degrees(np.arctan2(east, home[0] - region.lat)))


def _at(region: BoundRegion, bearing: float, beyond_m: float) -> Point:
    """The point at `beyond_m` past the region's edge (negative: inside) on a bearing from its centre."""
    return destination(region.lat, region.lon, bearing, region.radius_m + beyond_m)


def _clear(points: list[Point]) -> bool:
    """True when every leg of the polyline clears every risk zone by the routes' path gap."""
    for (a_lat, a_lon), (b_lat, b_lon) in itertools.pairwise(points):
        if np.any(segment_clearance_m(a_lat, a_lon, b_lat, b_lon, _ZLAT, _ZLON) - _ZR < PATH_GAP_M):
            return False
    return True


Legs = list[tuple[list[Point], float]]


def _weave_plan(
    region: BoundRegion, bearing: float, rng: np.random.Generator
) -> tuple[list[Point], Legs, list[Point], list[Point]] | None:
    """(way to the border, the weave's legs with speeds, the way out, the way back) or None when some
    leg would pass a risk zone. Each dip crosses the edge at two points and bulges 300-600 m out
    between them, so it lasts its drawn 2-4 min exactly at its speed."""
    start = [destination(region.lat, region.lon, bearing, INNER_M), _at(region, bearing, -500.0)]
    legs: Legs = []
    angle = bearing
    path = list(start)
    for _ in range(int(rng.integers(3, 5))):
        kmh = float(rng.uniform(40.0, 60.0))
        mps = kmh / 3.6
        half = mps * float(rng.uniform(*EXCURSION_S)) / 2.0
        bulge = min(float(rng.uniform(300.0, 600.0)), half * 0.6)
        along = math.sqrt(half * half - bulge * bulge)
        step = math.degrees(along / region.radius_m)
        cross_out = _at(region, angle + 0.2, 0.0)
        peak = _at(region, angle + 0.2 + step, bulge)
        cross_in = _at(region, angle + 0.2 + 2 * step, 0.0)
        angle += 0.2 + 2 * step
        inside_m = mps * float(rng.uniform(*INSIDE_S))
        back_in = _at(region, angle + 0.2, -400.0)
        onward = _at(region, angle + 0.2 + math.degrees(inside_m / region.radius_m), -400.0)
        angle += 0.2 + math.degrees(inside_m / region.radius_m)
        legs.append(([cross_out, peak, cross_in, back_in, onward], kmh))
        path += [cross_out, peak, cross_in, back_in, onward]
    away = [_at(region, angle + 0.3, 3_000.0), _at(region, angle + 0.3, rng.uniform(15_000.0, 30_000.0))]
    back = [away[0], _at(region, angle + 0.3, -3_000.0), destination(region.lat, region.lon, angle + 0.3, INNER_M)]
    if region.radius_m - 3_000.0 <= INNER_M or not _clear(path + away) or not _clear(back):
        return None
    return start, legs, away, back


POSITIVES: tuple[Scenario, ...] = (
    Scenario(
        "border_weave",
        # Wired only: a unit waking hours apart cannot tell a dip from the trip (it would date the
        # exit by a dip it happened to see).
        Casting("border_weave", devices="wired"),
        2,
        border_weave,
        summary="weaves across the bound region's border in 2-4 min dips, then leaves: region_exit once",
    ),
    Scenario(
        "exit_then_silence",
        Casting("exit_then_silence"),
        2,
        exit_then_silence,
        summary="leaves the bound region; minutes later its tracker falls silent for 3-5 h: region_exit",
    ),
)

NEGATIVES: tuple[Scenario, ...] = (
    Scenario(
        "drive_by_risk_zone",
        Casting("drive_by_risk_zone", delinquent=False),
        1,
        drive_by_risk_zone,
        negative=True,
        summary="drives through a risk zone's fence at 30-55 km/h without stopping",
    ),
    Scenario(
        "parks_in_fence_band",
        Casting("parks_in_fence_band", delinquent=False),
        1,
        parks_in_fence_band,
        negative=True,
        summary="crosses a 120 m pawn shop fence and parks 180-190 m from its centre for 3-6 h",
    ),
)
