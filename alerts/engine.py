"""The alert engine: detector signals × the loan they concern → alert actions.

Pure. For each signal it finds the vehicle's loan (read fresh by the shell at decision time),
skips loans that are not monitored (settled), applies the combination rules, and asks
rules.assess for severity, priority and any legal hold. An Ended (a condition that ended)
becomes a Clear of the live alert with its reason. One alert per (loan, kind, subject): the shell's
upsert turns repeats into updates.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from alerts.actions import Action, AlertDraft, Clear
from alerts.rules import assess
from alerts.signal import Ended, Signal
from alerts.thresholds import Thresholds, judged_by
from domain.assets import Loan
from domain.ids import DeviceId, Vin
from domain.vocabulary import AlertKind


def decide(
    signals: Sequence[Signal | Ended],
    *,
    vin_of: Mapping[DeviceId, Vin],
    loans: Mapping[Vin, Loan],
    in_risk_zone: Callable[[DeviceId], bool],
    thresholds_of: Callable[[DeviceId], Thresholds] | None = None,
) -> list[Action]:
    """Alert actions for these signals, in signal order; each draft's evidence names the
    thresholds it was judged by (those of `thresholds_of` its device) and the loan's portfolio."""
    actions: list[Action] = []
    for signal in signals:
        vin = vin_of.get(signal.device_id)
        loan = loans.get(vin) if vin is not None else None
        if loan is None or not loan.monitored:
            continue
        if isinstance(signal, Ended):
            actions.append(Clear(loan.loan_id, signal.kind, signal.subject, signal.at, signal.reason))
            continue
        escalate = signal.escalate
        evidence: dict[str, Any] = {**signal.evidence, "device_id": signal.device_id}
        if signal.kind in (AlertKind.POWER_CUT, AlertKind.TAMPER) and in_risk_zone(signal.device_id):
            escalate += 1  # power cut or tamper inside a pawn shop / second-lien lot
            evidence["inside_risk_zone"] = True
        assessment = assess(signal.kind, loan, today=signal.at.date(), escalate=escalate)
        if assessment is None:
            continue
        evidence["loan"] = {
            "days_past_due": loan.days_past_due,
            "bucket": loan.bucket.value,
            "status": loan.status.value,
            "outstanding_balance": str(loan.outstanding_balance),
            "portfolio": loan.portfolio,
        }
        judged = judged_by(thresholds_of(signal.device_id), signal.kind) if thresholds_of is not None else {}
        if judged:
            evidence["thresholds"] = judged
        actions.append(
            AlertDraft(
                kind=signal.kind,
                severity=assessment.severity,
                loan_id=loan.loan_id,
                vin=vin,
                subject=signal.subject,
                at=signal.at,
                priority=assessment.priority,
                hold_reason=assessment.hold_reason,
                evidence=evidence,
            )
        )
    return actions
