"""A vehicle's last fixes and its track, as the location rule lets them be shown."""

from datetime import datetime

from pydantic import BaseModel, Field


class DeviceFix(BaseModel):
    """A device's last fix; the fix's details (accuracy to power) only with precise access."""

    device_id: str
    kind: str
    active: bool
    last_fix_at: datetime | None
    online: bool
    alarms: list[str]
    lat: float | None = Field(description="City-level (one decimal) unless precise_location")
    lon: float | None
    accuracy_m: float | None = None
    speed_kmh: float | None = None
    source: str | None = None
    battery_pct: float | None = None
    power_v: float | None = None


class VehicleStatus(BaseModel):
    vin: str
    plate: str | None
    make_model: str | None
    loan_id: str | None
    loan_status: str | None
    days_past_due: int | None
    precise_location: bool
    access_reason: str = Field(description="Why the location is (or is not) shown precisely")
    devices: list[DeviceFix]


class TrackPoint(BaseModel):
    device_id: str
    ts: datetime
    lat: float
    lon: float
    speed_kmh: float | None
    fixes: int = Field(description="Fixes in the bin (1 when served fix by fix)")


class Track(BaseModel):
    vin: str
    start: datetime
    end: datetime
    bin_s: int | None = Field(description="The downsampling bin, or null when every fix is served")
    points: list[TrackPoint]
