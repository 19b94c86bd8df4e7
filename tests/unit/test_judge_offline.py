"""Offline through the judge: dated at the crossing whatever the batches and sweeps, raised for a
silence that ended inside a batch, escalated when every device of the car is silent in either order,
and learned from a garage that swallows the night slots of a wireless unit."""

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from alerts.actions import AlertDraft, Clear
from alerts.book import AlertBook, BookedAlert
from alerts.judge import Memory, World, judge, sweep
from alerts.thresholds import Policy
from domain.assets import Device, Loan
from domain.ids import DeviceId, LoanId, Vin
from domain.position import Position
from domain.vocabulary import DeviceKind

VIN = Vin("LSVAU2180N2183294")
LOAN = Loan(LoanId("L-1"), VIN, days_past_due=45)
WIRED = Device(DeviceId("wired-1"), DeviceKind.WIRED, VIN, moving_interval_s=10, parked_interval_s=3600)
WIRELESS = Device(DeviceId("wireless-1"), DeviceKind.WIRELESS, VIN, scheduled_interval_s=6 * 3600)
T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
LAT, LON = 28.2282, 112.9388  # Changsha
WORLD = World.build({d.device_id: d for d in (WIRED, WIRELESS)}, [], {VIN: LOAN}, Policy())


def loans(vins: Collection[Vin]) -> Mapping[Vin, Loan]:
    return {VIN: LOAN}


def fix(device: Device, hours: float) -> Position:
    ts = T0 + timedelta(hours=hours)
    return Position(device.device_id, ts, LAT, LON, ts, accuracy_m=10.0, speed_kmh=0.0, ignition=False)


def reports(device: Device, hours: Sequence[float]) -> list[Position]:
    return [fix(device, h) for h in hours]


def run(batches: Sequence[Sequence[Position]], sweeps: Sequence[float] = ()) -> AlertBook:
    """Judge the batches in turn, sweeping at each hour of `sweeps` that falls between them."""
    memory, book = Memory(), AlertBook()
    pending = sorted(sweeps)
    for batch in batches:
        while pending and pending[0] <= (min(p.ts for p in batch) - T0).total_seconds() / 3600:
            verdict = sweep(memory, WORLD, loans, T0 + timedelta(hours=pending.pop(0)))
            book.apply(verdict.actions)
            memory.adopt(verdict)
        verdict = judge(memory, batch, WORLD, loans)
        book.apply(verdict.actions)
        memory.adopt(verdict)
    for h in pending:
        verdict = sweep(memory, WORLD, loans, T0 + timedelta(hours=h))
        book.apply(verdict.actions)
        memory.adopt(verdict)
    return book


def offline(book: AlertBook) -> list[BookedAlert]:
    return [a for a in book.alerts if a.kind == "offline"]


def hours(t: datetime | None) -> float | None:
    return None if t is None else (t - T0).total_seconds() / 3600


def test_a_unit_silent_and_back_inside_one_batch_is_offline_from_the_crossing_until_back() -> None:
    # On a 6 h schedule the threshold is 12 h: silent from 0 h to 18 h, then back.
    (alert,) = offline(run([reports(WIRELESS, [0, 18, 24])]))
    assert (alert.subject, hours(alert.opened_at), hours(alert.closed_at)) == ("wireless-1", 12.0, 18.0)
    assert alert.close_reason == "device back online"
    assert alert.evidence["offline_from"] == (T0 + timedelta(hours=12)).isoformat()


def test_batches_and_sweeps_give_the_same_offline_alert() -> None:
    stream = reports(WIRELESS, [0, 18, 24])
    one_batch = offline(run([stream]))
    swept = offline(run([stream[:1], stream[1:2], stream[2:]], sweeps=[12.5, 13, 17]))
    late_sweep = offline(run([stream[:1], stream[1:]], sweeps=[17.9]))
    as_facts = [[(a.opened_at, a.closed_at, a.evidence) for a in run_] for run_ in (one_batch, swept, late_sweep)]
    assert as_facts[0] == as_facts[1] == as_facts[2]


def test_the_later_silent_device_escalates_when_the_first_was_flagged_by_an_earlier_sweep() -> None:
    # The wireless unit falls silent at 0 h (offline at 12 h, flagged by a sweep at 13 h); the
    # wired unit, reporting hourly, falls silent at 5 h (offline at 29 h).
    wired = reports(WIRED, [h for h in range(6)])
    book = run([reports(WIRELESS, [0]) + wired], sweeps=[13, 30])
    by_device = {a.subject: a for a in offline(book)}
    assert hours(by_device["wireless-1"].opened_at) == 12.0
    assert by_device["wireless-1"].evidence["all_devices_offline"] is False
    assert hours(by_device["wired-1"].opened_at) == 29.0
    assert by_device["wired-1"].evidence["all_devices_offline"] is True
    assert by_device["wired-1"].severity != by_device["wireless-1"].severity


def test_escalation_holds_when_both_silences_end_inside_one_batch() -> None:
    wired = reports(WIRED, [*range(6), 31])
    book = run([reports(WIRELESS, [0, 32]) + wired])
    by_device = {a.subject: a for a in offline(book)}
    assert by_device["wired-1"].evidence["all_devices_offline"] is True
    assert (hours(by_device["wired-1"].opened_at), hours(by_device["wired-1"].closed_at)) == (29.0, 31.0)


def test_a_garage_that_swallows_the_night_slots_stops_alerting_once_it_is_usual() -> None:
    # Reports at 10:00, 16:00, then nothing until 10:00 the next day (18 h): every night.
    days = 6
    stream = reports(WIRELESS, [h for d in range(days) for h in (24 * d, 24 * d + 6)])
    alerts = offline(run([stream], sweeps=[24 * d + 23 for d in range(days)]))
    nights = [hours(a.opened_at) for a in alerts]
    assert nights == [18.0, 42.0]  # the first two nights, at 2 x schedule after 16:00
    # ...then a night that runs far past the usual 18 h is offline again, and says what was expected
    longer = stream + reports(WIRELESS, [24 * days, 24 * days + 6, 24 * days + 6 + 40])
    (last,) = [a for a in offline(run([longer])) if hours(a.opened_at) > 24 * days]
    assert hours(last.opened_at) == 24 * days + 6 + 27  # 1.5 x the usual 18 h
    assert last.evidence["basis"] == "learned" and last.evidence["usual_silence_s"] == 18 * 3600


def test_the_alerts_are_drafts_of_the_loan() -> None:
    verdict = judge(Memory(), reports(WIRELESS, [0, 18]), WORLD, loans)
    draft, clear = verdict.actions
    assert isinstance(draft, AlertDraft) and draft.loan_id == "L-1" and draft.kind == "offline"
    assert isinstance(clear, Clear) and clear.at == T0 + timedelta(hours=18)
