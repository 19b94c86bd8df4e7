"""Severity by signal × delinquency bucket × loan status, the priority formula, and legal holds that keep an
alert on record but out of the actionable queue."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from alerts.rules import BASE_SEVERITY, active_hold, assess
from domain.assets import Hold, Loan
from domain.ids import LoanId, Vin
from domain.vocabulary import AlertKind, Bucket, LegalHold, LoanStatus, Severity

TODAY = date(2026, 11, 2)


def loan(
    dpd: int = 45,
    *,
    balance: str = "120000",
    status: LoanStatus = LoanStatus.ACTIVE,
    holds: tuple[Hold, ...] = (),
) -> Loan:
    return Loan(
        LoanId("L-1"),
        Vin("LSVAU2180N2183294"),
        status=status,
        days_past_due=dpd,
        outstanding_balance=Decimal(balance),
        holds=holds,
    )


# buckets


@pytest.mark.parametrize(
    ("dpd", "bucket"),
    [
        (0, Bucket.M0),
        (1, Bucket.M1),
        (30, Bucket.M1),
        (31, Bucket.M2),
        (60, Bucket.M2),
        (61, Bucket.M3),
        (90, Bucket.M3),
        (91, Bucket.M3_PLUS),
        (400, Bucket.M3_PLUS),
    ],
)
def test_bucket_of_days_past_due_at_each_edge(dpd: int, bucket: Bucket) -> None:
    assert Bucket.of(dpd) == bucket
    assert loan(dpd).bucket == bucket


def test_negative_days_past_due_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match="days_past_due"):
        Bucket.of(-1)


# severity


@pytest.mark.parametrize(
    ("dpd", "severity"),
    [(0, "low"), (15, "medium"), (45, "high"), (75, "high"), (120, "critical")],
)
def test_long_idle_severity_rises_with_the_bucket(dpd: int, severity: str) -> None:
    result = assess(AlertKind.LONG_IDLE, loan(dpd), today=TODAY)
    assert result is not None
    assert result.severity == severity


@pytest.mark.parametrize("kind", list(AlertKind))
def test_every_kind_has_a_severity_that_never_falls_as_the_bucket_rises(kind: AlertKind) -> None:
    levels = []
    for dpd in (0, 1, 31, 61, 91):
        result = assess(kind, loan(dpd), today=TODAY)
        assert result is not None
        levels.append(result.severity.rank)
    assert levels == sorted(levels)
    assert levels[0] < levels[-1]  # M0 and M3+ are told apart


@pytest.mark.parametrize("kind", list(AlertKind))
def test_m0_is_one_step_below_the_base_level(kind: AlertKind) -> None:
    m0 = assess(kind, loan(0), today=TODAY)
    m1 = assess(kind, loan(1), today=TODAY)
    assert m0 is not None and m1 is not None
    assert m1.severity == BASE_SEVERITY[kind]
    assert m0.severity.rank == max(Severity.INFO.rank, BASE_SEVERITY[kind].rank - 1)


def test_the_severity_scale_rises_from_info_to_critical_and_holds_at_its_ends() -> None:
    assert [s.rank for s in (Severity.INFO, Severity.LOW, Severity.CRITICAL)] == [0, 1, 4]
    assert [Severity.at(r) for r in (-2, 0, 2, 4, 9)] == ["info", "info", "medium", "critical", "critical"]


def test_severity_never_goes_below_info() -> None:
    result = assess(AlertKind.GPS_JUMP, loan(0), today=TODAY)  # low - 1
    assert result is not None
    assert result.severity == Severity.INFO


@pytest.mark.parametrize(("escalate", "severity"), [(0, "critical"), (1, "critical"), (3, "critical")])
def test_escalation_caps_at_critical(escalate: int, severity: str) -> None:
    result = assess(AlertKind.POWER_CUT, loan(120), today=TODAY, escalate=escalate)  # high + 2 + escalate
    assert result is not None
    assert result.severity == severity


def test_escalation_raises_one_step_per_level() -> None:
    levels = [assess(AlertKind.OFFLINE, loan(15), today=TODAY, escalate=e) for e in (0, 1, 2)]
    assert [r.severity for r in levels if r is not None] == ["medium", "high", "critical"]


def test_settled_loans_are_not_monitored() -> None:
    assert assess(AlertKind.POWER_CUT, loan(120, status=LoanStatus.SETTLED), today=TODAY) is None


@pytest.mark.parametrize("escalate", [0, 2])
def test_a_repossessed_loan_keeps_alerts_as_information_only(escalate: int) -> None:
    result = assess(AlertKind.TOW, loan(120, status=LoanStatus.REPOSSESSED), today=TODAY, escalate=escalate)
    assert result is not None
    assert result.severity == Severity.INFO


def test_a_repossessed_loans_alert_is_out_of_the_work_queue() -> None:
    result = assess(AlertKind.TOW, loan(120, balance="500000", status=LoanStatus.REPOSSESSED), today=TODAY)
    assert result is not None
    assert result.priority == 0.0


def test_a_charged_off_loan_is_judged_like_an_active_one() -> None:
    active = assess(AlertKind.TOW, loan(120), today=TODAY)
    charged_off = assess(AlertKind.TOW, loan(120, status=LoanStatus.CHARGED_OFF), today=TODAY)
    assert active == charged_off


# priority = balance (thousands) × bucket weight × signal weight × (1 + escalate)


def test_a_large_balance_at_m3_plus_with_a_power_cut_outranks_a_small_m1_long_idle() -> None:
    big = assess(AlertKind.POWER_CUT, loan(120, balance="200000"), today=TODAY)
    small = assess(AlertKind.LONG_IDLE, loan(15, balance="20000"), today=TODAY)
    assert big is not None and small is not None
    assert big.priority == 2400.0  # 200 × 4.0 × 3.0
    assert small.priority == 24.0  # 20 × 1.0 × 1.2
    assert big.priority > small.priority


def test_escalation_multiplies_the_priority() -> None:
    plain = assess(AlertKind.OFFLINE, loan(45, balance="100000"), today=TODAY)
    twice = assess(AlertKind.OFFLINE, loan(45, balance="100000"), today=TODAY, escalate=2)
    assert plain is not None and twice is not None
    assert plain.priority == 300.0  # 100 × 2.0 × 1.5
    assert twice.priority == 900.0


@pytest.mark.parametrize("balance", ["0", "999.99"])
def test_a_balance_under_a_thousand_counts_as_one_thousand(balance: str) -> None:
    result = assess(AlertKind.TOW, loan(45, balance=balance), today=TODAY)
    assert result is not None
    assert result.priority == 6.0  # 1 × 2.0 × 3.0


def test_an_m0_loan_ranks_below_the_same_signal_at_m1() -> None:
    m0 = assess(AlertKind.TOW, loan(0), today=TODAY)
    m1 = assess(AlertKind.TOW, loan(1), today=TODAY)
    assert m0 is not None and m1 is not None
    assert m0.priority == pytest.approx(120 * 0.2 * 3.0)
    assert m0.priority < m1.priority


# legal holds: on record, out of the queue, with the reason


def test_a_hold_without_an_end_date_sets_the_reason_and_priority_0() -> None:
    result = assess(AlertKind.POWER_CUT, loan(120, holds=(Hold(LegalHold.BANKRUPTCY),)), today=TODAY)
    assert result is not None
    assert result.hold_reason == "legal hold: bankruptcy"
    assert result.priority == 0.0
    assert result.severity == Severity.CRITICAL  # the record keeps its severity


def test_a_hold_is_in_force_on_its_last_day() -> None:
    hold = Hold(LegalHold.PROMISE_TO_PAY, until=TODAY)
    result = assess(AlertKind.LONG_IDLE, loan(45, holds=(hold,)), today=TODAY)
    assert result is not None
    assert result.hold_reason == "legal hold: promise_to_pay until 2026-11-02"
    assert result.priority == 0.0


def test_a_hold_ended_yesterday_is_not_in_force() -> None:
    hold = Hold(LegalHold.PROMISE_TO_PAY, until=TODAY - timedelta(days=1))
    result = assess(AlertKind.LONG_IDLE, loan(45, holds=(hold,)), today=TODAY)
    assert result is not None
    assert result.hold_reason is None
    assert result.priority > 0


def test_the_first_hold_still_in_force_is_the_one_shown() -> None:
    expired = Hold(LegalHold.PROMISE_TO_PAY, until=date(2026, 10, 1))
    dispute = Hold(LegalHold.DISPUTE, until=date(2026, 12, 31))
    servicemember = Hold(LegalHold.SERVICEMEMBER)
    assert active_hold((expired, dispute, servicemember), TODAY) == dispute
    assert active_hold((expired,), TODAY) is None
    assert active_hold((), TODAY) is None
    result = assess(AlertKind.TAMPER, loan(45, holds=(expired, dispute, servicemember)), today=TODAY)
    assert result is not None
    assert result.hold_reason == "legal hold: dispute until 2026-12-31"
