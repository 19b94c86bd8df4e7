"""A vehicle's ground-truth trajectory: a piecewise-linear path in time, and the builder that lays it.

Theory of operation: a track is a list of waypoints (time, lat, lon); between two waypoints the
car moves at constant speed (or stands still when both points coincide), with the ignition on or
off for that segment. Trackers sample the track at their own report times; scenarios lay unusual
segments (a tow is a moving segment with the ignition off). Times are integer epoch seconds (UTC).
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from domain.geo import haversine_m
from simulators.geo import FloatArray, bearing_deg

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Track:
    """Waypoints t/lat/lon (n) and, per segment k→k+1 (n−1), ignition, speed and heading."""

    t: IntArray
    lat: FloatArray
    lon: FloatArray
    ignition: BoolArray
    speed_kmh: FloatArray
    heading: FloatArray

    @property
    def start(self) -> int:
        return int(self.t[0])

    @property
    def end(self) -> int:
        return int(self.t[-1])

    def segment_index(self, times: IntArray) -> IntArray:
        """The segment each time falls in (clipped to the first / last segment)."""
        idx = np.searchsorted(self.t, times, side="right") - 1
        return np.clip(idx, 0, len(self.t) - 2).astype(np.int64)

    def positions(self, times: IntArray) -> tuple[FloatArray, FloatArray]:
        """Interpolated true positions at the given times."""
        tf = self.t.astype(np.float64)
        x = np.asarray(times, dtype=np.float64)
        return np.interp(x, tf, self.lat), np.interp(x, tf, self.lon)

    def position_at(self, t: int) -> tuple[float, float]:
        """The true position at one time."""
        lat, lon = self.positions(np.asarray([t], dtype=np.int64))
        return float(lat[0]), float(lon[0])

    def moving(self) -> BoolArray:
        """Per segment: does the car move?"""
        return np.asarray(self.speed_kmh > 0.0)


class TrackBuilder:
    """Lays a track forward in time: stays and drives, one call per activity."""

    def __init__(self, t0: int, lat: float, lon: float) -> None:
        self._t: list[int] = [t0]
        self._lat: list[float] = [lat]
        self._lon: list[float] = [lon]
        self._ign: list[bool] = []

    @property
    def now(self) -> int:
        return self._t[-1]

    @property
    def where(self) -> tuple[float, float]:
        return self._lat[-1], self._lon[-1]

    def stay_until(self, t: int) -> None:
        """Stand still, ignition off, until time t (no-op when t is not in the future)."""
        if t > self.now:
            self._append(t, self._lat[-1], self._lon[-1], False)

    def drive(self, waypoints: list[tuple[float, float]], speed_kmh: float, *, ignition: bool = True) -> None:
        """Move through the waypoints at speed_kmh (ignition off means towed or carried)."""
        mps = speed_kmh / 3.6
        for lat, lon in waypoints:
            d = haversine_m(self._lat[-1], self._lon[-1], lat, lon)
            if d < 1.0:
                continue
            self._append(self.now + max(1, round(d / mps)), lat, lon, ignition)

    def _append(self, t: int, lat: float, lon: float, ignition: bool) -> None:
        self._t.append(t)
        self._lat.append(lat)
        self._lon.append(lon)
        self._ign.append(ignition)

    def build(self, end: int) -> Track:
        """The finished track, held still until `end` if it stops short of it."""
        self.stay_until(end)
        if len(self._t) < 2:
            self._append(self.now + 1, self._lat[-1], self._lon[-1], False)
        t = np.asarray(self._t, dtype=np.int64)
        lat = np.asarray(self._lat, dtype=np.float64)
        lon = np.asarray(self._lon, dtype=np.float64)
        n = len(t) - 1
        speed = np.zeros(n)
        heading = np.zeros(n)
        last_heading = 0.0
        for k in range(n):
            d = haversine_m(lat[k], lon[k], lat[k + 1], lon[k + 1])
            if d >= 1.0:
                speed[k] = d / (t[k + 1] - t[k]) * 3.6
                last_heading = bearing_deg(lat[k], lon[k], lat[k + 1], lon[k + 1])
            # A parked car keeps the course it arrived on, as real units report it.
            heading[k] = last_heading
        return Track(t, lat, lon, np.asarray(self._ign, dtype=np.bool_), speed, heading)
