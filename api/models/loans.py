"""Loans as the API shows them: identity masked by role, home point under the location rule."""

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from domain.vocabulary import LoanStatus


class Hold(BaseModel):
    hold_id: int
    kind: str
    until: date | None
    note: str | None
    created_at: datetime


class Loan(BaseModel):
    loan_id: str
    vin: str
    plate: str | None = Field(description="Masked (京*****5) for roles that do not see identities")
    borrower_name: str | None = Field(description="Masked for roles that do not see identities")
    status: LoanStatus
    days_past_due: int
    outstanding_balance: Decimal
    currency: str
    home_lat: float | None = Field(description="City-level (one decimal) unless the location may be read precisely")
    home_lon: float | None
    bound_region: str | None
    assigned_collector: str | None
    portfolio: str | None = Field(description="The lender's book; the detectors' thresholds may be set per portfolio")
    updated_at: datetime
    holds: list[Hold] = Field(description="Open legal holds")
    bucket: str = Field(description="Delinquency bucket: M0, M1, M2, M3, M3+")


class LoanWithHold(Loan):
    hold_id: int = Field(description="The hold just placed")


class LoanPage(BaseModel):
    items: list[Loan]
    next_cursor: str | None


class BulkResult(BaseModel):
    received: int
    created: int
    updated: int
