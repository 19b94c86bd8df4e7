"""The alert engine: one AlertDraft per signal with the loan's delinquency as evidence, a Clear for a condition
that ended, settled loans skipped, repossessed as information, holds out of the queue, combination rules."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from alerts.actions import Action, AlertDraft, Clear
from alerts.engine import decide
from alerts.signal import Ended, Signal
from domain.assets import Hold, Loan
from domain.ids import DeviceId, LoanId, Vin
from domain.vocabulary import AlertKind, LegalHold, LoanStatus

LAT, LON = 31.2304, 121.4737  # People's Square, Shanghai
VIN = Vin("LSVAU2180N2183294")
WIRED = DeviceId("wired-1")
WIRELESS = DeviceId("wireless-1")
STRAY = DeviceId("not-installed")
T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
VIN_OF = {WIRED: VIN, WIRELESS: VIN}


def loan(
    dpd: int = 45,
    *,
    balance: str = "120000",
    status: LoanStatus = LoanStatus.ACTIVE,
    holds: tuple[Hold, ...] = (),
) -> Loan:
    return Loan(
        LoanId("L-1"),
        VIN,
        status=status,
        days_past_due=dpd,
        outstanding_balance=Decimal(balance),
        holds=holds,
    )


def signal(kind: AlertKind, *, device: DeviceId = WIRED, subject: str = "", **kw: Any) -> Signal:
    evidence = kw.pop("evidence", {"fix": {"ts": T0.isoformat(), "lat": LAT, "lon": LON}})
    return Signal(kind, device, kw.pop("at", T0), subject, evidence, **kw)


def run(
    signals: Sequence[Signal | Ended],
    the_loan: Loan | None = None,
    *,
    risk_zone: frozenset[DeviceId] = frozenset(),
) -> list[Action]:
    loans = {VIN: the_loan if the_loan is not None else loan()}
    return decide(signals, vin_of=VIN_OF, loans=loans, in_risk_zone=lambda d: d in risk_zone)


def drafts(actions: Sequence[Action]) -> list[AlertDraft]:
    assert all(isinstance(a, AlertDraft) for a in actions)
    return [a for a in actions if isinstance(a, AlertDraft)]


# drafts


def test_one_draft_per_signal_in_signal_order() -> None:
    signals = [
        signal(AlertKind.POWER_CUT, subject=WIRED),
        signal(AlertKind.LONG_IDLE, at=T0 + timedelta(hours=1)),
        signal(AlertKind.OFFLINE, device=WIRELESS, subject=WIRELESS, at=T0 + timedelta(hours=2)),
    ]
    out = drafts(run(signals))
    assert [(d.kind, d.subject, d.at) for d in out] == [
        ("power_cut", WIRED, T0),
        ("long_idle", "", T0 + timedelta(hours=1)),
        ("offline", WIRELESS, T0 + timedelta(hours=2)),
    ]
    assert {(d.loan_id, d.vin) for d in out} == {("L-1", VIN)}


def test_a_draft_carries_severity_priority_and_the_loans_delinquency_as_evidence() -> None:
    (draft,) = drafts(run([signal(AlertKind.LONG_IDLE)], loan(45, balance="120000")))
    assert draft.severity == "high"  # medium + 1 at M2
    assert draft.priority == pytest.approx(120 * 2.0 * 1.2)
    assert draft.hold_reason is None
    assert draft.evidence["fix"] == {"ts": T0.isoformat(), "lat": LAT, "lon": LON}  # the detector's own
    assert draft.evidence["device_id"] == WIRED
    assert draft.evidence["loan"] == {
        "days_past_due": 45,
        "bucket": "M2",
        "status": "active",
        "outstanding_balance": "120000",
        "portfolio": None,
    }


def test_days_past_due_are_those_of_the_loan_given_at_decision_time() -> None:
    (earlier,) = drafts(run([signal(AlertKind.TOW)], loan(30)))
    (later,) = drafts(run([signal(AlertKind.TOW)], loan(31)))
    assert (earlier.evidence["loan"]["bucket"], later.evidence["loan"]["bucket"]) == ("M1", "M2")
    assert (earlier.severity, later.severity) == ("high", "critical")


def test_the_signal_evidence_is_not_mutated() -> None:
    s = signal(AlertKind.POWER_CUT)
    before = dict(s.evidence)
    run([s], risk_zone=frozenset({WIRED}))
    assert s.evidence == before


# clears


def test_a_clearing_signal_becomes_a_clear_with_its_reason() -> None:
    at = T0 + timedelta(hours=80)
    cleared = Ended(AlertKind.LONG_IDLE, WIRED, at, "", "vehicle moved")
    assert run([cleared]) == [Clear(LoanId("L-1"), AlertKind.LONG_IDLE, "", at, "vehicle moved")]


def test_opens_and_clears_keep_their_order() -> None:
    actions = run(
        [
            signal(AlertKind.REAPPEARED_FAR, subject=WIRED),
            Ended(AlertKind.LONG_IDLE, WIRED, T0, "", "vehicle moved"),
        ]
    )
    assert [type(a).__name__ for a in actions] == ["AlertDraft", "Clear"]


# loans not monitored or not known


def test_a_settled_loan_is_skipped_for_opens_and_clears() -> None:
    back = Ended(AlertKind.OFFLINE, WIRED, T0, WIRED, "device back online")
    signals: list[Signal | Ended] = [signal(AlertKind.POWER_CUT), back]
    assert run(signals, loan(0, status=LoanStatus.SETTLED)) == []


def test_a_device_without_a_vehicle_or_a_vehicle_without_a_loan_is_skipped() -> None:
    assert run([signal(AlertKind.TAMPER, device=STRAY)]) == []
    assert decide([signal(AlertKind.TAMPER)], vin_of=VIN_OF, loans={}, in_risk_zone=lambda d: False) == []


def test_only_the_monitored_signals_of_a_mixed_batch_are_kept() -> None:
    actions = run([signal(AlertKind.TAMPER, device=STRAY), signal(AlertKind.TAMPER, subject=WIRED)])
    assert [(a.kind, a.subject) for a in drafts(actions)] == [("tamper", WIRED)]


# loan status and holds


def test_a_repossessed_loan_gets_information_only() -> None:
    (draft,) = drafts(run([signal(AlertKind.TOW)], loan(120, status=LoanStatus.REPOSSESSED)))
    assert draft.severity == "info"
    assert draft.evidence["loan"]["status"] == "repossessed"


def test_a_legal_hold_keeps_the_alert_with_its_reason_and_priority_0() -> None:
    held = loan(120, holds=(Hold(LegalHold.SERVICEMEMBER),))
    (draft,) = drafts(run([signal(AlertKind.POWER_CUT)], held))
    assert draft.hold_reason == "legal hold: servicemember"
    assert draft.priority == 0.0
    assert draft.severity == "critical"


def test_a_hold_is_judged_on_the_day_of_the_signal() -> None:
    held = loan(45, holds=(Hold(LegalHold.PROMISE_TO_PAY, until=date(2026, 11, 2)),))
    (on_the_day,) = drafts(run([signal(AlertKind.TOW, at=datetime(2026, 11, 2, 23, 0, tzinfo=UTC))], held))
    (day_after,) = drafts(run([signal(AlertKind.TOW, at=datetime(2026, 11, 3, 0, 0, tzinfo=UTC))], held))
    assert on_the_day.hold_reason == "legal hold: promise_to_pay until 2026-11-02"
    assert day_after.hold_reason is None
    assert day_after.priority > 0


@pytest.mark.parametrize(("dpd", "severity"), [(0, "low"), (1, "medium")])
def test_a_current_loan_lowers_the_severity(dpd: int, severity: str) -> None:
    (draft,) = drafts(run([signal(AlertKind.LONG_IDLE)], loan(dpd)))
    assert draft.severity == severity


# combination rules


@pytest.mark.parametrize("kind", [AlertKind.POWER_CUT, AlertKind.TAMPER])
def test_a_power_cut_or_tamper_inside_a_risk_zone_escalates(kind: AlertKind) -> None:
    (outside,) = drafts(run([signal(kind, subject=WIRED)], loan(15)))
    (inside,) = drafts(run([signal(kind, subject=WIRED)], loan(15), risk_zone=frozenset({WIRED})))
    assert (outside.severity, inside.severity) == ("high", "critical")
    assert "inside_risk_zone" not in outside.evidence
    assert inside.evidence["inside_risk_zone"] is True
    assert inside.priority == pytest.approx(2 * outside.priority)


def test_the_risk_zone_is_asked_about_the_signalling_device() -> None:
    (draft,) = drafts(run([signal(AlertKind.POWER_CUT, device=WIRELESS)], loan(15), risk_zone=frozenset({WIRED})))
    assert draft.severity == "high"


def test_a_long_idle_inside_a_risk_zone_is_not_escalated_by_the_power_cut_rule() -> None:
    (draft,) = drafts(run([signal(AlertKind.LONG_IDLE)], loan(15), risk_zone=frozenset({WIRED})))
    assert draft.severity == "medium"
    assert "inside_risk_zone" not in draft.evidence


def test_a_detectors_escalation_raises_the_severity() -> None:
    all_offline = signal(AlertKind.OFFLINE, subject=WIRED, escalate=1)
    (draft,) = drafts(run([all_offline], loan(15)))
    assert draft.severity == "high"


def test_escalation_caps_at_critical() -> None:
    power_cut = signal(AlertKind.POWER_CUT, subject=WIRED, escalate=2)
    (draft,) = drafts(run([power_cut], loan(120), risk_zone=frozenset({WIRED})))  # high + 2 + 2 + 1
    assert draft.severity == "critical"
    assert draft.priority == pytest.approx(120 * 4.0 * 3.0 * 4)
