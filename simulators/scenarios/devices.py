"""Positive scenarios about the trackers themselves: power cut, separation, jamming, silence, GPS jump.

The car's track is ordinary (or nearly); what changes is what its trackers report. Label windows
are read off the edited fixes, e.g. the first wireless fix that pairs with a wired fix > 1 km away.
"""

import dataclasses

import numpy as np

from domain.geo import haversine_m, haversines_m
from domain.vocabulary import AlertKind, DeviceAlarm
from simulators.cities import REGIONS
from simulators.fleet import Member
from simulators.geo import destination
from simulators.routes import clear_of_zones, safe_place
from simulators.routine import HOUR_S, drive_to
from simulators.scenarios.base import (
    Context,
    Outcome,
    ScenarioError,
    begin,
    combine,
    label,
    live_until,
    pick_time,
    region_exit_label,
    report,
    with_event,
    without,
)
from simulators.scenarios.movement import far_places
from simulators.track import TrackBuilder
from simulators.trackers import ALARM_BITS, wireless_fixes

OFFLINE_WIRED_S = 24 * HOUR_S  # DESIGN: a wired unit silent for 24 h is offline


def power_cut(member: Member, ctx: Context, rng: np.random.Generator) -> Outcome:
    """The wired unit is cut from power and removed; the hidden wireless unit keeps reporting."""
    t_cut = pick_time(ctx, rng, 0.0, 24.0, lead_s=6 * HOUR_S, tail_s=OFFLINE_WIRED_S + 6 * HOUR_S)
    b = begin(member, ctx)
    live_until(b, member, ctx.end, rng)
    track = b.build(ctx.end)
    wired, wireless = report(member, ctx, track, rng)
    fixes = with_event(
        combine(wired, wireless), track, t_cut, ctx.wired, rng, alarms=ALARM_BITS[DeviceAlarm.POWER_CUT], power_v=0.0
    )
    fixes = without(fixes, ctx.wired, t_cut + 1, ctx.end)
    device = member.wired.device_id
    labels = (
        label(member, "power_cut", AlertKind.POWER_CUT, t_cut, t_cut + 600, device),
        # Absence of data is found by a sweep, which may run late: the window stays open to the end.
        label(
            member,
            "power_cut",
            AlertKind.OFFLINE,
            t_cut + OFFLINE_WIRED_S,
            max(ctx.end, t_cut + OFFLINE_WIRED_S) + HOUR_S,
            device,
        ),
    )
    return Outcome(track, fixes, labels)


def device_separation(member: Member, ctx: Context, rng: np.random.Generator) -> Outcome:
    """The wireless unit is taken out and left in another car 3+ km from home and work."""
    if ctx.wireless is None or member.wireless is None:
        raise ScenarioError("device_separation needs a car with a wireless unit")
    t_sep = pick_time(ctx, rng, 0.0, 24.0, lead_s=6 * HOUR_S, tail_s=36 * HOUR_S)
    b = begin(member, ctx)
    live_until(b, member, ctx.end, rng)
    track = b.build(ctx.end)
    places = member.places
    avoid = (places.work, *places.favourites)
    for _ in range(200):
        spot = safe_place(member.city, rng, near=places.home, min_m=3_000.0)
        if min(haversine_m(spot[0], spot[1], p[0], p[1]) for p in avoid) >= 3_000.0:
            break
    else:
        raise ScenarioError("device_separation: no drop-off place 3 km from home, work and errands")
    carried = TrackBuilder(t_sep, *track.position_at(t_sep))
    drive_to(carried, spot, rng)
    other = carried.build(ctx.end)
    wired, _ = report(member, ctx, track, rng)
    # GPS-only wireless fixes, moved onto the other car's track after the separation (noise kept).
    wl = wireless_fixes(track, member, ctx.wireless, ctx.start, ctx.end, rng, coarse_share=0.0)
    moved = wl.t >= t_sep
    car_lat, car_lon = track.positions(wl.t)
    new_lat, new_lon = other.positions(wl.t)
    wl = dataclasses.replace(
        wl,
        lat=np.where(moved, wl.lat + new_lat - car_lat, wl.lat),
        lon=np.where(moved, wl.lon + new_lon - car_lon, wl.lon),
    )
    after = wl.take(moved)
    fixes = combine(wired, wl)
    # First wireless fix after the separation that pairs (within 10 min) with a wired fix > 1.2 km off.
    t_pair = None
    for t, lat, lon in zip(after.t.tolist(), after.lat.tolist(), after.lon.tolist(), strict=True):
        near = np.abs(wired.t - t) <= 600
        if near.any() and haversines_m(lat, lon, wired.lat[near], wired.lon[near]).min() > 1_200.0:
            t_pair = int(t)
            break
    if t_pair is None:
        raise ScenarioError("device_separation: no wireless fix pairs with a distant wired fix")
    labels = (
        label(
            member,
            "device_separation",
            AlertKind.DEVICE_SEPARATION,
            t_pair - 600,
            t_pair + 1800,
            member.wireless.device_id,
        ),
    )
    return Outcome(track, fixes, labels)


def jamming(member: Member, ctx: Context, rng: np.random.Generator) -> Outcome:
    """A jamming alarm, then 3–5 h of silence while the car is driven 5–15 km away."""
    t_jam = pick_time(ctx, rng, 10.0, 16.0, lead_s=3 * HOUR_S, tail_s=8 * HOUR_S)
    silence_s = int(rng.uniform(3.0, 5.0) * HOUR_S)
    b = begin(member, ctx)
    live_until(b, member, t_jam, rng)
    b.stay_until(t_jam)
    here = b.where
    spot = safe_place(member.city, rng, near=here, min_m=5_000.0)
    drive_to(b, spot, rng)
    live_until(b, member, ctx.end, rng)
    track = b.build(ctx.end)
    wired, wireless = report(member, ctx, track, rng)
    fixes = with_event(combine(wired, wireless), track, t_jam, ctx.wired, rng, alarms=ALARM_BITS[DeviceAlarm.JAMMING])
    fixes = without(fixes, ctx.wired, t_jam + 1, t_jam + silence_s)
    if ctx.wireless is not None:
        fixes = without(fixes, ctx.wireless, t_jam + 1, t_jam + silence_s)
    labels = (label(member, "jamming", AlertKind.JAMMING, t_jam, t_jam + 600, member.wired.device_id),)
    return Outcome(track, fixes, labels)


def reappeared_far(member: Member, ctx: Context, rng: np.random.Generator) -> Outcome:
    """Silent from the evening for 7–9 h while driven > 100 km away; reappears there at dawn."""
    t_quiet = pick_time(ctx, rng, 21.0, 22.0, lead_s=3 * HOUR_S, tail_s=21 * HOUR_S)
    b = begin(member, ctx)
    live_until(b, member, t_quiet, rng)
    b.stay_until(t_quiet + int(rng.uniform(0.5, 1.5) * HOUR_S))
    _, places = far_places(member, rng)
    drive_to(b, places.work, rng)
    # Silent for 7-9 h (reappeared_far needs >= 6 h), and parked far away when it speaks again.
    t_back = max(t_quiet + int(rng.uniform(7.0, 9.0) * HOUR_S), b.now + 1800)
    b.stay_until(t_back + int(rng.uniform(6.0, 8.0) * HOUR_S))
    drive_to(b, member.places.home, rng)
    live_until(b, member, ctx.end, rng)
    track = b.build(ctx.end)
    wired, wireless = report(member, ctx, track, rng)
    fixes = without(combine(wired, wireless), ctx.wired, t_quiet, t_back)
    if ctx.wireless is not None:
        fixes = without(fixes, ctx.wireless, t_quiet, t_back)
    fixes = with_event(fixes, track, t_back, ctx.wired, rng)  # the unit reconnects and reports
    device = member.wired.device_id
    labels = [label(member, "reappeared_far", AlertKind.REAPPEARED_FAR, t_back, t_back + 900, device)]
    region = REGIONS[member.loan.bound_region or ""]
    if not region.contains(*places.work):
        exit_label = region_exit_label(member, "reappeared_far", track, t_back, t_back + 60)
        if exit_label is not None:
            labels.append(exit_label)
    return Outcome(track, fixes, tuple(labels))


def gps_jump(member: Member, ctx: Context, rng: np.random.Generator) -> Outcome:
    """One wired fix on the move lands 8–15 km off the road (multipath or spoofing)."""
    b = begin(member, ctx)
    live_until(b, member, ctx.end, rng)
    track = b.build(ctx.end)
    wired, wireless = report(member, ctx, track, rng)
    after = int(rng.integers(ctx.start + HOUR_S, ctx.start + (ctx.end - ctx.start) // 2))
    gaps = np.diff(wired.t, prepend=wired.t[0] - 10_000)
    on_the_move = (wired.t >= after) & (wired.t < ctx.end - HOUR_S) & (wired.speed_kmh > 10.0) & (gaps <= 40)
    candidates = np.flatnonzero(on_the_move)
    if len(candidates) == 0:
        raise ScenarioError("gps_jump: the car never drove in the period")
    i = int(candidates[0])
    region = REGIONS[member.loan.bound_region or ""]
    for _ in range(200):
        lat, lon = destination(
            float(wired.lat[i]), float(wired.lon[i]), rng.uniform(0.0, 360.0), rng.uniform(8_000.0, 15_000.0)
        )
        if clear_of_zones(lat, lon, gap_m=1_000.0) and region.contains(lat, lon):
            break
    else:
        raise ScenarioError("gps_jump: no jump target clear of zones inside the region")
    new_lat, new_lon = wired.lat.copy(), wired.lon.copy()
    new_lat[i], new_lon[i] = lat, lon
    wired = dataclasses.replace(wired, lat=new_lat, lon=new_lon)
    t = int(wired.t[i])
    labels = (label(member, "gps_jump", AlertKind.GPS_JUMP, t - 60, t + 600, member.wired.device_id),)
    return Outcome(track, combine(wired, wireless), labels)
