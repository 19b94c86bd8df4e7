"""Vehicles, their trackers and the loans they secure."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from domain.ids import DeviceId, LoanId, Vin
from domain.vocabulary import Bucket, DeviceKind, LegalHold, LoanStatus


@dataclass(frozen=True, slots=True)
class Vehicle:
    vin: Vin
    plate: str | None = None
    make_model: str | None = None


@dataclass(frozen=True, slots=True)
class Device:
    device_id: DeviceId
    kind: DeviceKind
    vin: Vin | None = None
    # Expected cadence, seconds. Wired units report while moving and heartbeat while parked;
    # wireless units wake on a schedule.
    moving_interval_s: int | None = None
    parked_interval_s: int | None = None
    scheduled_interval_s: int | None = None


@dataclass(frozen=True, slots=True)
class Hold:
    kind: LegalHold
    until: date | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Loan:
    loan_id: LoanId
    vin: Vin
    status: LoanStatus = LoanStatus.ACTIVE
    days_past_due: int = 0
    outstanding_balance: Decimal = Decimal(0)
    currency: str = "CNY"
    borrower_name: str | None = None
    home_lat: float | None = None
    home_lon: float | None = None
    bound_region: str | None = None
    assigned_collector: str | None = None
    holds: tuple[Hold, ...] = field(default=())
    portfolio: str | None = None  # the lender's book; thresholds may be set per portfolio

    @property
    def bucket(self) -> Bucket:
        """The delinquency bucket of this loan today."""
        return Bucket.of(self.days_past_due)

    @property
    def monitored(self) -> bool:
        """Settled loans stop being monitored."""
        return self.status != LoanStatus.SETTLED
