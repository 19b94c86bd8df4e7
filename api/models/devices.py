"""Devices, and the commands sent to them."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from domain.vocabulary import DeviceKind


class Device(BaseModel):
    device_id: str
    kind: DeviceKind
    vin: str | None
    moving_interval_s: int | None
    parked_interval_s: int | None
    scheduled_interval_s: int | None
    registered_at: datetime
    active: bool


class DevicePage(BaseModel):
    items: list[Device]
    next_cursor: str | None


class CommandSent(BaseModel):
    command_id: int
    topic: str = Field(description="The MQTT topic it was published on")
    payload: dict[str, Any] = Field(description="What the tracker received: cmd, ref, issued_by, and its settings")
    status: Literal["sent"]
