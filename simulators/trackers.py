"""How trackers see a track: wired units report often while moving and hourly while parked; wireless
units wake on a schedule, sometimes get only a coarse cell or Wi-Fi fix, and drain their battery.

Fixes are columns (numpy arrays), not objects, so a fleet-week of millions of fixes costs seconds.
A fix's reported position is the true one plus GPS noise bounded by its stated accuracy, which is
how a detector that subtracts accuracy (Home Assistant's zone) stays right about fences.
"""

import dataclasses
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from domain.vocabulary import DeviceAlarm
from simulators.fleet import Member
from simulators.geo import M_PER_DEG_LAT, FloatArray
from simulators.routine import local_midnight
from simulators.track import IntArray, Track

Int8Array = npt.NDArray[np.int8]

ALARM_BITS: dict[DeviceAlarm, int] = {alarm: 1 << i for i, alarm in enumerate(DeviceAlarm)}
SOURCES = ("gps", "lbs", "wifi")
GPS, LBS, WIFI = 0, 1, 2
NOT_REPORTED = -1  # ignition of a wireless unit, which is not wired to the ignition line


@dataclass(frozen=True, slots=True)
class Fixes:
    """Columns of fixes; `device` indexes the simulation's device table, NaN means "not reported"."""

    device: IntArray
    t: IntArray
    lat: FloatArray
    lon: FloatArray
    accuracy_m: FloatArray
    speed_kmh: FloatArray
    heading: FloatArray
    ignition: Int8Array
    source: Int8Array
    battery_pct: FloatArray
    power_v: FloatArray
    alarms: Int8Array

    def __len__(self) -> int:
        return len(self.t)

    def take(self, idx: npt.NDArray[np.int64] | npt.NDArray[np.bool_]) -> "Fixes":
        """The fixes at these indices (or where this mask is true)."""
        return Fixes(*(getattr(self, f.name)[idx] for f in dataclasses.fields(self)))

    def sorted(self) -> "Fixes":
        """Ordered by device, then time."""
        return self.take(np.lexsort((self.t, self.device)))

    @staticmethod
    def concat(parts: list["Fixes"]) -> "Fixes":
        """All fixes of the parts, in order."""
        names = [f.name for f in dataclasses.fields(Fixes)]
        return Fixes(*(np.concatenate([getattr(p, n) for p in parts]) for n in names))


def _noisy(
    lat: FloatArray, lon: FloatArray, acc: FloatArray, rng: np.random.Generator, bound: float
) -> tuple[FloatArray, FloatArray]:
    # Noise never exceeds `bound` × the stated accuracy, so "distance − accuracy" stays truthful.
    r = np.minimum(np.abs(rng.normal(0.0, 0.5, len(lat))), 1.0) * acc * bound
    a = rng.uniform(0.0, 2 * np.pi, len(lat))
    dlat = r * np.cos(a) / M_PER_DEG_LAT
    dlon = r * np.sin(a) / (M_PER_DEG_LAT * np.cos(np.radians(lat)))
    return lat + dlat, lon + dlon


def sample(
    track: Track,
    times: IntArray,
    device: int,
    rng: np.random.Generator,
    *,
    accuracy: tuple[float, float] = (4.0, 15.0),
    wired: bool = True,
) -> Fixes:
    """GPS fixes of one device at the given times (sorted, unique), wired-style columns unless told."""
    n = len(times)
    seg = track.segment_index(times)
    lat, lon = track.positions(times)
    acc = rng.uniform(accuracy[0], accuracy[1], n)
    lat, lon = _noisy(lat, lon, acc, rng, 1.0)
    seg_speed = track.speed_kmh[seg]
    moving = seg_speed > 0.0
    speed = np.where(moving, seg_speed * rng.uniform(0.85, 1.15, n), 0.0)
    heading = np.where(moving, (track.heading[seg] + rng.normal(0.0, 3.0, n)) % 360.0, track.heading[seg])
    ign = track.ignition[seg]
    if wired:
        ignition = ign.astype(np.int8)
        power = np.where(ign, rng.uniform(13.6, 14.4, n), rng.uniform(12.2, 12.7, n))
    else:
        ignition = np.full(n, NOT_REPORTED, dtype=np.int8)
        power = np.full(n, np.nan)
    return Fixes(
        np.full(n, device, dtype=np.int64),
        times.astype(np.int64),
        lat,
        lon,
        acc,
        speed,
        heading,
        ignition,
        np.zeros(n, dtype=np.int8),
        np.full(n, np.nan),
        power,
        np.zeros(n, dtype=np.int8),
    )


def wired_times(track: Track, member: Member, start: int, end: int) -> IntArray:
    """Report times of the wired unit: every moving interval on the move, hourly heartbeat parked."""
    step = member.wired.moving_interval_s or 20
    moving = track.moving()
    parts: list[IntArray] = []
    for k in range(len(track.t) - 1):
        t0, t1 = int(track.t[k]), int(track.t[k + 1])
        if moving[k]:
            parts.append(np.arange(t0, t1, step, dtype=np.int64))
        else:
            # An event fix on stopping (ignition off), then heartbeats on the device's own phase.
            first = t0 + (member.heartbeat_phase_s - t0) % 3600
            parts.append(np.asarray([t0], dtype=np.int64))
            parts.append(np.arange(first, t1, 3600, dtype=np.int64))
    times = np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
    return times[(times >= start) & (times < end)]


def wired_fixes(
    track: Track,
    member: Member,
    device: int,
    start: int,
    end: int,
    rng: np.random.Generator,
    *,
    accuracy: tuple[float, float] = (4.0, 15.0),
) -> Fixes:
    """Everything the wired unit reports between start and end."""
    return sample(track, wired_times(track, member, start, end), device, rng, accuracy=accuracy)


def wireless_times(member: Member, start: int, end: int) -> IntArray:
    """Scheduled wake-ups of the wireless unit, on its phase from local midnight."""
    if member.wireless is None:
        raise ValueError(f"loan {member.loan.loan_id}: the car has no wireless unit")
    interval = member.wireless.scheduled_interval_s or 86_400
    first = local_midnight(start) + member.wireless_phase_s
    times = np.arange(first, end, interval, dtype=np.int64)
    return times[times >= start]


def wireless_fixes(
    track: Track,
    member: Member,
    device: int,
    start: int,
    end: int,
    rng: np.random.Generator,
    *,
    coarse_share: float = 0.25,
) -> Fixes:
    """Everything the wireless unit reports: scheduled fixes, some coarse, battery draining."""
    times = wireless_times(member, start, end)
    fixes = sample(track, times, device, rng, accuracy=(5.0, 25.0), wired=False)
    n = len(times)
    draw = rng.random(n)
    source = np.where(draw < coarse_share * 0.6, LBS, np.where(draw < coarse_share, WIFI, GPS)).astype(np.int8)
    # Coarse fixes: the cell or Wi-Fi position is off by up to 0.8 × its (large) accuracy.
    coarse = source != GPS
    acc = np.where(
        source == LBS,
        rng.uniform(150.0, 800.0, n),
        np.where(source == WIFI, rng.uniform(30.0, 120.0, n), fixes.accuracy_m),
    )
    true_lat, true_lon = track.positions(times)
    c_lat, c_lon = _noisy(true_lat, true_lon, acc, rng, 0.8)
    # A unit drains about 0.2 % per wake-up plus self-discharge of 0.05 % a day.
    battery = np.maximum(1.0, member.battery_pct - 0.2 * np.arange(n) - 0.05 * (times - start) / 86_400)
    alarms = np.where(battery < 15.0, ALARM_BITS[DeviceAlarm.LOW_BATTERY], 0).astype(np.int8)
    return dataclasses.replace(
        fixes,
        lat=np.where(coarse, c_lat, fixes.lat),
        lon=np.where(coarse, c_lon, fixes.lon),
        accuracy_m=acc,
        source=source,
        battery_pct=np.round(battery, 1).astype(np.float64),
        alarms=alarms,
    )
