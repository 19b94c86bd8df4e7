"""The lender's thresholds: a default and per-portfolio overrides from a document, refused with the
field named when wrong; each loan's car judged by its portfolio's, and the alert says which."""

from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta

import pytest

from alerts.actions import AlertDraft
from alerts.judge import Memory, World, judge
from alerts.thresholds import Policy, ThresholdError, Thresholds
from domain.assets import Device, Loan
from domain.ids import DeviceId, LoanId, Vin
from domain.position import Position
from domain.vocabulary import DeviceKind

HOUR = 3600.0


def test_a_portfolio_overrides_the_default_field_by_field() -> None:
    policy = Policy.from_document(
        {"default": {"long_idle_s": 48 * HOUR}, "portfolios": {"subprime": {"wired_offline_s": 6 * HOUR}}}
    )
    assert policy.default == Thresholds(long_idle_s=48 * HOUR)
    assert policy.of("subprime") == Thresholds(long_idle_s=48 * HOUR, wired_offline_s=6 * HOUR)
    assert policy.of(None) == policy.of("a book with no thresholds of its own") == policy.default
    assert Policy.from_document({}) == Policy()


@pytest.mark.parametrize(
    ("document", "field", "reason"),
    [
        ({"default": {"long_idle": 3}}, "default.long_idle", "unknown threshold"),
        ({"portfolios": {"p": {"tow_min_s": -1}}}, "portfolios.p.tow_min_s", "must be a positive number"),
        ({"portfolios": {"p": {"tow_min_s": "2 min"}}}, "portfolios.p.tow_min_s", "must be a positive number"),
        ({"portfolios": {"p": {"tow_min_s": True}}}, "portfolios.p.tow_min_s", "must be a positive number"),
        ({"portfolios": {"p": {"tow_min_s": float("nan")}}}, "portfolios.p.tow_min_s", "must be a positive number"),
        ({"portfolio": {}}, "portfolio", "unknown section"),
        ({"portfolios": ["p"]}, "portfolios", "expected a table"),
    ],
)
def test_a_bad_document_names_the_field_and_the_reason(document: dict[str, object], field: str, reason: str) -> None:
    with pytest.raises(ThresholdError) as raised:
        Policy.from_document(document)
    assert raised.value.field == field
    assert str(raised.value).startswith(f"{field}: {reason}")


def test_each_car_is_judged_by_its_portfolios_thresholds_and_the_alert_says_which() -> None:
    strict, usual = Vin("VIN-STRICT-000001"), Vin("VIN-USUAL-0000001")
    devices = {
        DeviceId(f"w-{n}"): Device(DeviceId(f"w-{n}"), DeviceKind.WIRED, vin, parked_interval_s=3600)
        for n, vin in (("strict", strict), ("usual", usual))
    }
    loans = {
        strict: Loan(LoanId("L-S"), strict, days_past_due=40, portfolio="subprime"),
        usual: Loan(LoanId("L-U"), usual, days_past_due=40, portfolio="prime"),
    }
    policy = Policy.from_document({"portfolios": {"subprime": {"wired_offline_s": 6 * HOUR}}})
    world = World.build(devices, [], loans, policy)
    t0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)

    def lookup(vins: Collection[Vin]) -> Mapping[Vin, Loan]:
        return loans

    # Both cars silent for 10 h, then back: only the subprime one was offline.
    fixes = [
        Position(d, t0 + timedelta(hours=h), 28.2, 112.9, t0 + timedelta(hours=h), accuracy_m=5.0)
        for d in devices
        for h in (0, 10)
    ]
    drafts = [a for a in judge(Memory(), fixes, world, lookup).actions if isinstance(a, AlertDraft)]
    assert [(d.loan_id, d.kind, d.at) for d in drafts] == [("L-S", "offline", t0 + timedelta(hours=6))]
    (draft,) = drafts
    assert draft.evidence["thresholds"]["wired_offline_s"] == 6 * HOUR
    assert draft.evidence["loan"]["portfolio"] == "subprime"
    assert draft.evidence["threshold_s"] == 6 * HOUR
