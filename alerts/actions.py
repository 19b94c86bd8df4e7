"""What the engine asks the shell to do to the alerts table: open-or-refresh, or clear."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.ids import LoanId, Vin
from domain.vocabulary import AlertKind, Severity


@dataclass(frozen=True, slots=True)
class AlertDraft:
    """An alert as the engine wants it to exist now (opened, or refreshed if live)."""

    kind: AlertKind
    severity: Severity
    loan_id: LoanId
    vin: Vin | None
    subject: str
    at: datetime
    priority: float
    hold_reason: str | None
    evidence: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Clear:
    """The condition behind the live alert (loan, kind, subject) ended at `at`, for `reason`."""

    loan_id: LoanId
    kind: AlertKind
    subject: str
    at: datetime
    reason: str


Action = AlertDraft | Clear
