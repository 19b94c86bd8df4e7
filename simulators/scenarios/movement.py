"""Positive scenarios about where the car goes: relocation, pawn-shop dwell, long idle, tow, region exit.

Each runner lays the car's ordinary life up to the event, the event itself, and life afterwards;
label windows come from the laid track (the moment the car crosses a fence edge, say), not from
the plan, so they stay true whatever the routes turned out to be.
"""

import numpy as np

from domain.geo import haversine_m
from domain.vocabulary import AlertKind, RiskZoneType
from simulators.cities import CITIES, REGIONS, zones_in
from simulators.fleet import Member, Places
from simulators.geo import destination
from simulators.routes import clear_of_zones, safe_place
from simulators.routine import DAY_S, HOUR_S, drive_to, live, local_midnight
from simulators.scenarios.base import (
    Context,
    Outcome,
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
)

RELOCATION_MIN_M = 100_000.0  # new home this far from the old one (detector threshold: 80 km)


def far_places(member: Member, rng: np.random.Generator) -> tuple[str, Places]:
    """A home, workplace and errands in the member's far city, the home > 100 km from today's."""
    city = CITIES[member.city].far_city
    home = safe_place(city, rng, near=member.places.home, min_m=RELOCATION_MIN_M)
    work = safe_place(city, rng, near=home, min_m=2_000.0)
    return city, Places(home, work, tuple(safe_place(city, rng) for _ in range(4)))


def relocation(member: Member, ctx: Context, rng: np.random.Generator) -> Outcome:
    """Moves to a city > 100 km away and lives there: overnight stays far from home from night one."""
    # Leave by day so the car sleeps away twice before the data ends (06:00 on the second morning).
    depart = pick_time(ctx, rng, 9.0, 16.0, lead_s=3 * HOUR_S, tail_s=47 * HOUR_S)
    b = begin(member, ctx)
    live_until(b, member, depart, rng)
    b.stay_until(depart)
    t_leave = b.now
    city, places = far_places(member, rng)
    drive_to(b, places.home, rng)
    live(b, city=city, places=places, profile=member.profile, until=ctx.end, rng=rng)
    track = b.build(ctx.end)
    night1 = local_midnight(t_leave) + 22 * HOUR_S
    # Two overnight stays are complete on the second morning; "24 h outside the bound region" can
    # open it earlier, on the first full day away.
    window_end = min(ctx.end, night1 + DAY_S + 14 * HOUR_S)
    labels = [label(member, "relocation", AlertKind.RELOCATION, night1, window_end)]
    exit_label = region_exit_label(member, "relocation", track, t_leave, night1)
    if exit_label is not None:
        labels.append(exit_label)
    return Outcome(track, combine(*report(member, ctx, track, rng)), tuple(labels))


def risk_zone_dwell(member: Member, ctx: Context, rng: np.random.Generator) -> Outcome:
    """Drives into a pawn shop's fence and stays 2.5–5 h: enter, then dwell past 30 min."""
    zones = zones_in(member.city, RiskZoneType.PAWN_SHOP)
    zone = zones[int(rng.integers(0, len(zones)))]
    stay_s = int(rng.uniform(2.5, 5.0) * HOUR_S)
    visit = pick_time(ctx, rng, 10.0, 14.0, lead_s=3 * HOUR_S, tail_s=stay_s + 2 * HOUR_S)
    bearing = float(rng.uniform(0.0, 360.0))
    approach = destination(zone.lat, zone.lon, bearing, zone.radius_m + 1_100.0)
    spot = destination(zone.lat, zone.lon, bearing + rng.uniform(-60.0, 60.0), rng.uniform(0.0, 0.3) * zone.radius_m)
    b = begin(member, ctx)
    live_until(b, member, visit, rng)
    b.stay_until(visit)
    drive_to(b, approach, rng)
    t_approach = b.now
    b.drive([spot], 12.0)  # walking pace across the lot
    b.stay_until(b.now + stay_s)
    t_leave = b.now
    b.drive([approach], 12.0)
    t_out = b.now
    live_until(b, member, ctx.end, rng)
    track = b.build(ctx.end)

    beyond = outside(zone.lat, zone.lon, zone.radius_m)
    t_enter = first_time(track, t_approach, t_leave, lambda a, c: ~beyond(a, c))
    t_exit = first_time(track, t_leave, t_out, beyond)
    if t_enter is None or t_exit is None:
        raise ScenarioError(f"risk_zone_dwell: the track never crossed {zone.zone_id}")
    labels = (
        label(member, "risk_zone_dwell", AlertKind.RISK_ZONE_ENTER, t_enter - 60, t_enter + 900),
        label(member, "risk_zone_dwell", AlertKind.RISK_ZONE_DWELL, t_enter + zone.dwell_s, t_exit + 300),
    )
    return Outcome(track, combine(*report(member, ctx, track, rng)), labels)


def long_idle(member: Member, ctx: Context, rng: np.random.Generator) -> Outcome:
    """Parks at an ordinary street place and does not move for 75–80 h."""
    idle_s = int(rng.uniform(75.0, 80.0) * HOUR_S)
    leave = pick_time(ctx, rng, 8.0, 20.0, lead_s=2 * HOUR_S, tail_s=72 * HOUR_S + 3 * HOUR_S)
    spot = safe_place(member.city, rng, near=member.places.home, min_m=1_000.0)
    b = begin(member, ctx)
    live_until(b, member, leave, rng)
    b.stay_until(leave)
    drive_to(b, spot, rng)
    t_stop = b.now
    b.stay_until(t_stop + idle_s)
    live_until(b, member, ctx.end, rng)
    track = b.build(ctx.end)
    # DESIGN: long_idle at 72 h, info-level from 24 h; either may be when the alert first opens.
    labels = (label(member, "long_idle", AlertKind.LONG_IDLE, t_stop + 24 * HOUR_S, t_stop + 72 * HOUR_S + 5400),)
    return Outcome(track, combine(*report(member, ctx, track, rng)), labels)


def tow(member: Member, ctx: Context, rng: np.random.Generator) -> Outcome:
    """Towed away from home at night: 3–10 km at 25–40 km/h with the ignition off."""
    t_tow = pick_time(ctx, rng, 1.0, 4.0, lead_s=HOUR_S, tail_s=2 * HOUR_S)
    b = begin(member, ctx)
    live_until(b, member, t_tow, rng)
    b.stay_until(t_tow)
    t_start = b.now
    here = b.where
    spot = safe_place(member.city, rng, near=here, min_m=3_000.0)
    while haversine_m(here[0], here[1], spot[0], spot[1]) > 10_000.0:
        spot = safe_place(member.city, rng, near=here, min_m=3_000.0)
    b.drive([spot], float(rng.uniform(25.0, 40.0)), ignition=False)
    t_end = b.now
    live_until(b, member, ctx.end, rng)
    track = b.build(ctx.end)
    wired = member.wired.device_id
    labels = (label(member, "tow", AlertKind.TOW, t_start + 120, t_end + 300, wired),)
    return Outcome(track, combine(*report(member, ctx, track, rng)), labels)


def region_exit(member: Member, ctx: Context, rng: np.random.Generator) -> Outcome:
    """A day trip 15–30 km past the edge of the bound region, back the same day."""
    region = REGIONS[member.loan.bound_region or CITIES[member.city].region_id]
    home = member.places.home
    toward = float(np.degrees(np.arctan2(home[1] - region.lon, home[0] - region.lat)))
    for _ in range(200):
        dest = destination(
            region.lat, region.lon, toward + rng.uniform(-40.0, 40.0), region.radius_m + rng.uniform(15_000.0, 30_000.0)
        )
        if clear_of_zones(*dest, gap_m=2_000.0):
            break
    else:
        raise ScenarioError(f"region_exit: no destination clear of zones outside {region.region_id}")
    depart = pick_time(ctx, rng, 9.0, 11.0, lead_s=3 * HOUR_S, tail_s=10 * HOUR_S)
    b = begin(member, ctx)
    live_until(b, member, depart, rng)
    b.stay_until(depart)
    t_leave = b.now
    drive_to(b, dest, rng)
    b.stay_until(b.now + int(rng.uniform(2.0, 4.0) * HOUR_S))
    drive_to(b, home, rng)
    t_home = b.now
    live_until(b, member, ctx.end, rng)
    track = b.build(ctx.end)
    exit_label = region_exit_label(member, "region_exit", track, t_leave, t_home)
    if exit_label is None:
        raise ScenarioError("region_exit: the track never left the bound region")
    return Outcome(track, combine(*report(member, ctx, track, rng)), (exit_label,))
