"""One accepted position fix, as the ingestor hands it to storage and the detectors."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.ids import DeviceId

# A fix coarser than this, or made by LBS / Wi-Fi, is stored but never decides a fence
# crossing (Home Assistant drops fixes above its max_gps_accuracy for the same reason).
COARSE_ACCURACY_M = 500.0

# What a tracker reports of a fix, named as Position's fields and the positions table's columns:
# the decoder knows these payload keys, the writer copies them (then extra and received_at).
REPORTED_FIELDS = (
    "device_id",
    "ts",
    "lat",
    "lon",
    "accuracy_m",
    "speed_kmh",
    "heading",
    "ignition",
    "source",
    "battery_pct",
    "power_v",
    "alarms",
    "seq",
)


@dataclass(frozen=True, slots=True)
class Position:
    device_id: DeviceId
    ts: datetime  # fix time, UTC, timezone-aware
    lat: float
    lon: float
    received_at: datetime
    accuracy_m: float | None = None
    speed_kmh: float | None = None
    heading: float | None = None
    ignition: bool | None = None
    source: str = "gps"
    battery_pct: float | None = None
    power_v: float | None = None
    alarms: tuple[str, ...] = ()
    seq: int | None = None
    extra: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def coarse(self) -> bool:
        """True when the fix is too imprecise to decide a fence crossing."""
        if self.source != "gps":
            return True
        return self.accuracy_m is not None and self.accuracy_m > COARSE_ACCURACY_M
