"""Negative scenarios: situations that look alarming to a naive detector and must raise nothing.

Each yields one negative label (kind null) over the time the situation lasts; any alert on that loan
in that window is a false alert.
"""

import dataclasses

import numpy as np

from domain.vocabulary import AlertKind, RiskZoneType
from simulators.cities import zones_in
from simulators.fleet import Member
from simulators.geo import destination
from simulators.routine import DAY_S, HOUR_S, drive_to, live, local_midnight
from simulators.scenarios.base import (
    Context,
    Outcome,
    ScenarioError,
    begin,
    combine,
    label,
    live_until,
    ordinary,
    pick_time,
    report,
    without,
)
from simulators.scenarios.movement import far_places

# garage_nights: underground from 19:00 to 09:00 local every night; its first nights are the
# detectors' to learn (an offline alert then follows the lender's policy and is not scored).
GARAGE_FROM_H, GARAGE_HOURS = 19, 14
LEARNING_NIGHTS = 2
BESIDE_MIN_M, BESIDE_MAX_M = 110.0, 150.0  # parking spot outside the fence edge
BESIDE_ACCURACY = (10.0, 25.0)  # urban-canyon drift: noise up to 25 m keeps fixes >= 85 m outside


def parks_beside_pawn_shop(member: Member, ctx: Context, rng: np.random.Generator) -> Outcome:
    """Parks 110–150 m outside a pawn shop's fence for 2–4 h with drifting GPS; never inside."""
    zones = zones_in(member.city, RiskZoneType.PAWN_SHOP)
    zone = zones[int(rng.integers(0, len(zones)))]
    bearing = float(rng.uniform(0.0, 360.0))
    spot = destination(zone.lat, zone.lon, bearing, zone.radius_m + rng.uniform(BESIDE_MIN_M, BESIDE_MAX_M))
    # Approach and leave radially, so the last leg never cuts through the fence.
    approach = destination(zone.lat, zone.lon, bearing, zone.radius_m + 1_100.0)
    stay_s = int(rng.uniform(2.0, 4.0) * HOUR_S)
    visit = pick_time(ctx, rng, 10.0, 14.0, lead_s=3 * HOUR_S, tail_s=stay_s + 2 * HOUR_S)
    b = begin(member, ctx)
    live_until(b, member, visit, rng)
    b.stay_until(visit)
    drive_to(b, approach, rng)
    t_from = b.now
    b.drive([spot], 15.0)
    b.stay_until(b.now + stay_s)
    b.drive([approach], 15.0)
    t_to = b.now
    live_until(b, member, ctx.end, rng)
    track = b.build(ctx.end)
    wired, wireless = report(member, ctx, track, rng, accuracy=BESIDE_ACCURACY)
    labels = (label(member, "parks_beside_pawn_shop", None, t_from, t_to),)
    return Outcome(track, combine(wired, wireless), labels)


def underground_garage(member: Member, ctx: Context, rng: np.random.Generator) -> Outcome:
    """One night in an underground garage at home: no fixes from parking until leaving next morning."""
    b = begin(member, ctx)
    live_until(b, member, ctx.end, rng)
    track = b.build(ctx.end)
    night = pick_time(ctx, rng, 2.0, 3.0, lead_s=12 * HOUR_S, tail_s=12 * HOUR_S)
    k = int(track.segment_index(np.asarray([night], dtype=np.int64))[0])
    if track.speed_kmh[k] > 0.0:
        raise ScenarioError("underground_garage: the car was on the road at night")
    t_in, t_out = int(track.t[k]), int(track.t[k + 1])
    fixes = combine(*report(member, ctx, track, rng))
    fixes = without(fixes, ctx.wired, t_in - 30, t_out + 30)
    if ctx.wireless is not None:
        fixes = without(fixes, ctx.wireless, t_in - 30, t_out + 30)
    return Outcome(track, fixes, (label(member, "underground_garage", None, t_in, t_out),))


def holiday_trip(member: Member, ctx: Context, rng: np.random.Generator) -> Outcome:
    """One night in a city > 100 km away, inside the loan's metropolitan region, then home."""
    depart = pick_time(ctx, rng, 8.0, 10.0, lead_s=6 * HOUR_S, tail_s=DAY_S + 14 * HOUR_S)
    b = begin(member, ctx)
    live_until(b, member, depart, rng)
    b.stay_until(depart)
    t_leave = b.now
    _, places = far_places(member, rng)
    drive_to(b, places.home, rng)  # the hotel
    b.stay_until(local_midnight(t_leave) + DAY_S + int(rng.uniform(14.0, 17.0) * HOUR_S))
    drive_to(b, member.places.home, rng)
    t_home = b.now
    live(b, city=member.city, places=member.places, profile=member.profile, until=ctx.end, rng=rng)
    track = b.build(ctx.end)
    return Outcome(
        track, combine(*report(member, ctx, track, rng)), (label(member, "holiday_trip", None, t_leave, t_home),)
    )


def taxi_heavy_user(member: Member, ctx: Context, rng: np.random.Generator) -> Outcome:
    """Drives fares 15–17 h a day all over the city."""
    outcome = ordinary(member, ctx, rng)
    return Outcome(outcome.track, outcome.fixes, (label(member, "taxi_heavy_user", None, ctx.start, ctx.end),))


def wireless_once_a_day(member: Member, ctx: Context, rng: np.random.Generator) -> Outcome:
    """A wireless unit that wakes once a day: a 24 h gap is its schedule, not an outage."""
    outcome = ordinary(member, ctx, rng)
    device = member.wireless.device_id if member.wireless is not None else None
    return Outcome(
        outcome.track, outcome.fixes, (label(member, "wireless_once_a_day", None, ctx.start, ctx.end, device),)
    )


def garage_nights(member: Member, ctx: Context, rng: np.random.Generator) -> Outcome:
    """Sleeps in an underground garage every night: no fixes from 19:00 to 09:00, night after night.

    A wireless unit on a 6 h schedule thus misses two or three slots each night (silent 18-24 h,
    against a policy threshold of 12 h). Once its nights are usual they must raise nothing.
    """
    outcome = ordinary(member, ctx, rng)
    fixes = outcome.fixes
    nights = []
    t_in = local_midnight(ctx.start) + GARAGE_FROM_H * HOUR_S
    while t_in < ctx.end:
        t_out = t_in + GARAGE_HOURS * HOUR_S
        for device in (ctx.wired, ctx.wireless):
            if device is not None:
                fixes = without(fixes, device, t_in, t_out)
        if t_out > ctx.start:
            nights.append((max(t_in, ctx.start), min(t_out, ctx.end)))
        t_in += DAY_S
    # A night teaches only once the unit has reported before it.
    if ctx.wireless is not None:
        reported = fixes.t[fixes.device == ctx.wireless]
        if len(reported):
            nights = [n for n in nights if n[0] > int(reported.min())]
    if len(nights) <= LEARNING_NIGHTS:
        raise ScenarioError("garage_nights: too few nights to learn them")
    # The unit's last report before the garage is up to one schedule earlier: its alert may open
    # from then on; the learning nights' alerts are tolerated, the later nights' are false.
    unit = member.wireless.device_id if member.wireless is not None else None
    lead = 6 * HOUR_S
    learning = tuple(
        dataclasses.replace(label(member, "garage_nights", AlertKind.OFFLINE, t0 - lead, t1, unit), required=False)
        for t0, t1 in nights[:LEARNING_NIGHTS]
    )
    settled = nights[LEARNING_NIGHTS][0] - lead
    labels = (*learning, label(member, "garage_nights", None, settled, ctx.end, unit))
    return Outcome(outcome.track, fixes, labels)
