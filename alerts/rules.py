"""Severity, priority and the actionable queue: signal × delinquency × loan status.

Severity starts from the signal's base level and rises with the delinquency bucket: a car in
a pawn-shop lot matters little on a current loan and a great deal at 75 days past due. Loans
already repossessed keep alerts as information only; settled loans are not monitored at all.
A legal hold (bankruptcy stay, servicemember protection, dispute, promise to pay) keeps the
alert on record but out of the collectors' queue, with the reason shown: acting on a loan
under a hold is the wrongful-repossession risk regulators fine lenders for.

Priority orders the work queue:
    priority = max(balance_at_risk in thousands, 1) × bucket weight × signal weight × (1 + escalation)
so a 200k balance at M3+ with a power cut outranks a 20k balance at M1 with a long idle. Alerts
under a legal hold and on repossessed cars get priority 0: on record, not in the queue.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.assets import Hold, Loan
from domain.vocabulary import AlertKind, Bucket, LoanStatus, Severity

BASE_SEVERITY: dict[AlertKind, Severity] = {
    AlertKind.RISK_ZONE_ENTER: Severity.MEDIUM,  # CN: entering is a warning...
    AlertKind.RISK_ZONE_DWELL: Severity.HIGH,  # ...staying is the risk
    AlertKind.REGION_EXIT: Severity.MEDIUM,
    AlertKind.RELOCATION: Severity.HIGH,
    AlertKind.LONG_IDLE: Severity.MEDIUM,
    AlertKind.OFFLINE: Severity.MEDIUM,
    AlertKind.POWER_CUT: Severity.HIGH,
    AlertKind.TAMPER: Severity.HIGH,
    AlertKind.JAMMING: Severity.HIGH,
    AlertKind.DEVICE_SEPARATION: Severity.HIGH,
    AlertKind.TOW: Severity.HIGH,
    AlertKind.REAPPEARED_FAR: Severity.HIGH,
    AlertKind.GPS_JUMP: Severity.LOW,
}

BUCKET_SHIFT: dict[Bucket, int] = {Bucket.M0: -1, Bucket.M1: 0, Bucket.M2: 1, Bucket.M3: 1, Bucket.M3_PLUS: 2}
BUCKET_WEIGHT: dict[Bucket, float] = {
    Bucket.M0: 0.2,
    Bucket.M1: 1.0,
    Bucket.M2: 2.0,
    Bucket.M3: 3.0,
    Bucket.M3_PLUS: 4.0,
}
SIGNAL_WEIGHT: dict[AlertKind, float] = {
    AlertKind.POWER_CUT: 3.0,
    AlertKind.TAMPER: 3.0,
    AlertKind.JAMMING: 3.0,
    AlertKind.DEVICE_SEPARATION: 3.0,
    AlertKind.TOW: 3.0,
    AlertKind.RELOCATION: 2.5,
    AlertKind.RISK_ZONE_DWELL: 2.5,
    AlertKind.REAPPEARED_FAR: 2.0,
    AlertKind.REGION_EXIT: 1.5,
    AlertKind.OFFLINE: 1.5,
    AlertKind.LONG_IDLE: 1.2,
    AlertKind.RISK_ZONE_ENTER: 1.0,
    AlertKind.GPS_JUMP: 0.3,
}


@dataclass(frozen=True, slots=True)
class Assessment:
    severity: Severity
    priority: float
    hold_reason: str | None  # set: on record, out of the actionable queue


def active_hold(holds: tuple[Hold, ...], today: date) -> Hold | None:
    """The first hold still in force today (a hold without an end date stays in force)."""
    for hold in holds:
        if hold.until is None or hold.until >= today:
            return hold
    return None


def assess(kind: AlertKind, loan: Loan, *, today: date, escalate: int = 0) -> Assessment | None:
    """Severity, priority and hold of a signal on this loan; None when the loan is not monitored."""
    if loan.status == LoanStatus.SETTLED:
        return None
    bucket = loan.bucket
    severity = Severity.at(BASE_SEVERITY[kind].rank + BUCKET_SHIFT[bucket] + escalate)
    repossessed = loan.status == LoanStatus.REPOSSESSED
    if repossessed:
        severity = Severity.INFO  # the car is with the lender: information only, out of the queue
    balance_k = float(loan.outstanding_balance / Decimal(1000))
    priority = round(max(balance_k, 1.0) * BUCKET_WEIGHT[bucket] * SIGNAL_WEIGHT[kind] * (1 + escalate), 3)
    if repossessed:
        priority = 0.0
    hold = active_hold(loan.holds, today)
    hold_reason = None
    if hold is not None:
        hold_reason = f"legal hold: {hold.kind.value}" + (f" until {hold.until.isoformat()}" if hold.until else "")
        priority = 0.0
    return Assessment(severity, priority, hold_reason)
