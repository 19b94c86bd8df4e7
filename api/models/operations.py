"""What operators and integrations read: quarantine, replay reports, portfolio figures, the audit
log, webhook subscriptions, health."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class QuarantineEntry(BaseModel):
    quarantine_id: int
    received_at: datetime
    topic: str
    reason: str
    detail: str | None
    device_id: str | None
    payload: str = Field(description="The refused bytes as UTF-8 text (undecodable bytes replaced)")


class ReasonCount(BaseModel):
    reason: str
    pending: int
    replayed: int


class QuarantinePage(BaseModel):
    items: list[QuarantineEntry]
    next_after_id: int | None = Field(description="Pass as `after_id` for the next page")
    counts: list[ReasonCount]


class ReplayReport(BaseModel):
    replayed: int
    positions_stored: int
    still_refused: dict[str, int] = Field(description="Entries still refused, by reason")


class PortfolioStats(BaseModel):
    open_alerts: dict[str, dict[str, int]] = Field(description="Open alerts by kind, then by delinquency bucket")
    devices_active: int
    devices_offline: int
    vehicles_in_risk_zones: int


class AuditEntry(BaseModel):
    audit_id: int
    at: datetime
    actor: str
    action: str
    subject_type: str
    subject_id: str
    purpose: str | None
    detail: dict[str, Any] | None


class AuditPage(BaseModel):
    items: list[AuditEntry]
    next_cursor: str | None


class Subscription(BaseModel):
    subscription_id: int
    url: str
    kinds: list[str] = Field(description="Empty: every kind")
    min_severity: str
    created_by: str
    created_at: datetime
    active: bool


class Subscriptions(BaseModel):
    items: list[Subscription]


class Subscribed(BaseModel):
    subscription_id: int
    secret: str = Field(description="The signing secret, shown this once")


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, bool] = Field(description="database, broker: reachable or not")
