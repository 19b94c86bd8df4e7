"""The relocation rule: where each monitored car sleeps, and whether it has started sleeping elsewhere.

Pure. Over the precise evening-to-morning fixes the shell read for each monitored loan's car
(`tracked` says which device, `HOME_WINDOW` how far back) it finds stay points, takes the home
cluster (the most frequent overnight stay area of the last 30 days; the loan's declared home
address until there are nights to go on), and signals relocation when >= 2 nights of the last 7
were spent > 80 km from it, or the car has stood >= 24 h clearly outside its bound region.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from alerts.signal import Signal
from domain.assets import Device, Loan
from domain.ids import DeviceId, Vin
from domain.vocabulary import AlertKind, DeviceKind
from geofence.home import Home, home_cluster, outside_region, overnight_far
from geofence.regions import builtin_regions
from geofence.signals import Relocation
from geofence.staypoints import StayPoint, stay_points

HOME_WINDOW = timedelta(days=30)
HOME_MIN_NIGHTS = 7  # nights a home cluster needs before it outweighs the declared home
# Evening, night and early morning in local time: overnight stays (22:00-06:00) with the arrival
# before and the departure after them. Daytime fixes cannot change an overnight stay.
NIGHT_FROM_HOUR, NIGHT_UNTIL_HOUR = 19, 9
NIGHT_HOURS = (NIGHT_FROM_HOUR, NIGHT_UNTIL_HOUR)


def at_night(local_hour: int) -> bool:
    """Whether a fix at this local hour belongs to the night fixes relocation reads."""
    return local_hour >= NIGHT_FROM_HOUR or local_hour < NIGHT_UNTIL_HOUR

# Per device: (epoch seconds, lat, lon) of its night fixes, in time order.
Track = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]
Tracks = Mapping[str, Track]


def _evidence(found: Relocation, home: Home | None) -> dict[str, Any]:
    return {
        "reason": found.reason.value,
        "stays": [{"ts": f.ts.isoformat(), "lat": f.lat, "lon": f.lon} for f in found.evidence],
        "home": {"lat": home.lat, "lon": home.lon, "nights": home.nights} if home else None,
        "threshold_m": found.threshold_m,
        "threshold_s": found.threshold_s,
        "region": found.region_id,
    }


def tracked(devices: Mapping[DeviceId, Device], loans: Mapping[Vin, Loan]) -> dict[Vin, DeviceId]:
    """The device whose night fixes judge each loan's car: the wired unit when there is one."""
    chosen: dict[Vin, DeviceId] = {}
    for device in sorted(devices.values(), key=lambda d: d.kind != DeviceKind.WIRED):
        if device.vin is not None and device.vin in loans and device.vin not in chosen:
            chosen[device.vin] = device.device_id  # the wired unit reports most
    return chosen


def relocations(
    tracks: Tracks,
    *,
    now: datetime,
    devices: Mapping[DeviceId, Device],
    loans: Mapping[Vin, Loan],
    timezone: str,
) -> list[Signal]:
    """Relocation signals for every monitored car, judged at `now`."""
    chosen = tracked(devices, loans)
    regions = builtin_regions()
    signals: list[Signal] = []
    for vin, device_id in chosen.items():
        track = tracks.get(device_id)
        loan = loans[vin]
        if track is None or not loan.monitored:
            continue
        ts, lat, lon = track
        stays = stay_points(ts, lat, lon)
        home = _home(stays, loan, now=now, timezone=timezone)
        found = overnight_far(stays, home, now=now, timezone=timezone) if home is not None else None
        region = regions.get(loan.bound_region or "")
        if found is None and region is not None:
            times = [datetime.fromtimestamp(t, now.tzinfo) for t in ts]
            zeros = np.zeros(len(ts))
            found = outside_region(times, lat, lon, zeros, zeros.astype(bool), region)
        if found is not None:
            signals.append(Signal(AlertKind.RELOCATION, device_id, found.at, "", _evidence(found, home)))
    return signals


def _home(stays: list[StayPoint], loan: Loan, *, now: datetime, timezone: str) -> Home | None:
    """The home cluster once it holds a week of nights; until then the loan's declared home.

    A cluster of a few nights is weak evidence: a car that moved four nights into its history
    would have its new city as home and never be seen to have moved.
    """
    home = home_cluster(stays, now=now, timezone=timezone)
    weak = home is None or home.nights < HOME_MIN_NIGHTS
    if weak and loan.home_lat is not None and loan.home_lon is not None:
        return Home(loan.home_lat, loan.home_lon, nights=0, stays=0)
    return home


def home_of(tracks: Tracks, *, now: datetime, timezone: str) -> tuple[Home | None, list[StayPoint]]:
    """The home cluster from a car's night fixes, with its stay points."""
    stays: list[StayPoint] = []
    for ts, lat, lon in tracks.values():
        stays += stay_points(ts, lat, lon)
    stays.sort(key=lambda s: s.arrived)
    return home_cluster(stays, now=now, timezone=timezone), stays
