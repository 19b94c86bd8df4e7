"""Device rows, the inbox and the retry backoff."""

import threading
import time

import pytest

from domain.vocabulary import DeviceKind
from ingest.devices import DeviceRowError, parse_row, parse_rows
from ingest.inbox import Inbox
from ingest.service import Backoff


def test_device_rows_good_and_bad_by_line() -> None:
    rows = [
        {"device_id": "GT06-0001", "kind": "wired", "vin": "LSVAM4187C2184847", "moving_interval_s": "15"},
        {"device_id": "bad/id", "kind": "wired"},
        {"device_id": "W-2", "kind": "wireless", "scheduled_interval_s": "21600"},
        {"device_id": "W-3", "kind": "solar"},
        {"device_id": "W-4", "kind": "wireless", "scheduled_interval_s": "-5"},
    ]
    good, problems = parse_rows(rows)
    assert [d.device_id for d in good] == ["GT06-0001", "W-2"]
    assert good[1].kind == DeviceKind.WIRELESS and good[1].scheduled_interval_s == 21600
    assert [(p.line, p.error.split(":")[0]) for p in problems] == [
        (3, "device_id"),
        (5, "kind"),
        (6, "scheduled_interval_s"),
    ]


def test_device_row_error_names_the_field() -> None:
    with pytest.raises(DeviceRowError, match=r"^moving_interval_s:"):
        parse_row({"device_id": "a", "kind": "wired", "moving_interval_s": "ten"})


def test_inbox_batches_by_size_then_by_time() -> None:
    inbox: Inbox[int] = Inbox(capacity=100)
    for n in range(25):
        inbox.put(n)
    assert inbox.take(10, max_wait=1.0) == list(range(10))
    started = time.monotonic()
    assert inbox.take(100, max_wait=0.1) == list(range(10, 25))
    assert 0.09 <= time.monotonic() - started < 1.0


def test_inbox_waits_from_the_oldest_arrival_not_from_the_call() -> None:
    inbox: Inbox[int] = Inbox(capacity=100)
    inbox.put(1)
    time.sleep(0.15)  # e.g. while the writer stored the previous batch
    inbox.put(2)
    started = time.monotonic()
    assert inbox.take(100, max_wait=0.1) == [1, 2]  # the first item has waited long enough
    assert time.monotonic() - started < 0.05
    inbox.put(3)
    started = time.monotonic()
    assert inbox.take(100, max_wait=0.1) == [3]  # a fresh item still gets its linger
    assert 0.09 <= time.monotonic() - started < 1.0


def test_inbox_put_blocks_while_full_until_taken() -> None:
    inbox: Inbox[int] = Inbox(capacity=2)
    inbox.put(1)
    inbox.put(2)
    done = threading.Event()
    threading.Thread(target=lambda: (inbox.put(3), done.set()), daemon=True).start()
    assert not done.wait(0.2)  # backpressure: the producer waits
    assert inbox.take(1, 0.0) == [1]
    assert done.wait(2)
    assert len(inbox) == 2


def test_inbox_offer_never_waits() -> None:
    inbox: Inbox[int] = Inbox(capacity=2)
    assert inbox.offer(1) and inbox.offer(2)
    assert not inbox.offer(3)
    assert inbox.take(10, 0.0) == [1, 2]
    assert inbox.offer(3) and inbox.take(10, 0.0) == [3]


def test_inbox_close_drains_then_returns_empty() -> None:
    inbox: Inbox[int] = Inbox(capacity=10)
    inbox.put(7)
    inbox.close()
    assert inbox.take(5, 1.0) == [7]
    assert inbox.take(5, 1.0) == []


def test_backoff_doubles_to_a_cap() -> None:
    backoff = Backoff(first_s=0.5, cap_s=4.0)
    assert [backoff.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    # A database down for hours: thousands of retries, each still waiting the cap.
    assert backoff.delay(1025) == 4.0 and backoff.delay(10**6) == 4.0
