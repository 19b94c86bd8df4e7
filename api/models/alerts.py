"""Alerts as the queue, one alert's evidence and history, and the live stream show them."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from domain.vocabulary import AlertKind, AlertStatus, Disposition, Severity


class Alert(BaseModel):
    alert_id: int
    kind: AlertKind
    severity: Severity
    loan_id: str | None
    vin: str | None
    subject: str = Field(description="What the alert is about within the loan (a device, a fence), or empty")
    status: AlertStatus
    disposition: Disposition | None
    assignee: str | None
    priority: float = Field(description="Higher first in the queue")
    hold_reason: str | None = Field(description="The legal hold keeping it out of the actionable queue")
    opened_at: datetime
    last_seen_at: datetime
    closed_at: datetime | None
    close_reason: str | None
    updated_at: datetime
    days_past_due: int | None
    bucket: str | None = Field(description="Delinquency bucket: M0, M1, M2, M3, M3+")


class AlertPage(BaseModel):
    items: list[Alert]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last")


class HistoryEntry(BaseModel):
    history_id: int
    at: datetime
    actor: str
    event: str
    from_status: str | None
    to_status: str | None
    note: str | None
    data: dict[str, Any] | None = Field(description="What the event carried (coordinates under the location rule)")


class AlertDetail(Alert):
    evidence: dict[str, Any] = Field(
        description="The fixes, fence, thresholds and days past due it was raised on; coordinates city-level "
        "(one decimal) unless precise_location"
    )
    precise_location: bool
    history: list[HistoryEntry]
