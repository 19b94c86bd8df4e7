"""Partitioning by vehicle and rendezvous ownership (pure), and the refusal of a plain $share."""

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from alerts.clock import Watermark
from domain.assets import Device
from domain.ids import DeviceId, Vin
from domain.vocabulary import DeviceKind
from ingest.partition import (
    Router,
    assignment,
    clock_subject,
    desired_owner,
    device_partition,
    message_id,
    partition_filter,
    partition_of,
    subject,
)
from ingest.partition_clock import PartitionClock, WallClock

VIN = Vin("LSVAB2BR5KN012345")


def test_both_units_of_a_car_travel_in_one_partition() -> None:
    wired = Device(DeviceId("u-wired"), DeviceKind.WIRED, VIN)
    wireless = Device(DeviceId("u-hidden"), DeviceKind.WIRELESS, VIN, scheduled_interval_s=3600)
    router = Router(64, {wired.device_id: VIN, wireless.device_id: VIN})
    assert router.route("u-wired", "t")[0] == router.route("u-hidden", "t")[0] == device_partition(wired, 64)
    assert device_partition(wireless, 64) == device_partition(wired, 64)


def test_the_partition_of_a_key_is_stable_and_in_range() -> None:
    # CRC-32 of "v:LSVAB2BR5KN012345": the same in every process and release.
    assert partition_of(f"v:{VIN}", 16) == partition_of(f"v:{VIN}", 16)
    assert {partition_of(f"v:VIN{n:05d}", 16) for n in range(2000)} == set(range(16))


def test_an_unregistered_device_is_keyed_by_itself_and_an_odd_topic_by_the_topic() -> None:
    router = Router(16, {})
    p, subj = router.route("stranger.1", "trackers/stranger.1/position")
    assert p == partition_of("d:stranger.1", 16)
    assert subj == f"lienwatch.pos.{p}.stranger_1"  # no dot, star or > inside a subject token
    q, _ = router.route(None, "jt808/x/notaphone/up")
    assert q == partition_of("d:jt808/x/notaphone/up", 16)


def test_subjects_and_filters_of_a_partition() -> None:
    assert subject(3, f"v:{VIN}") == f"lienwatch.pos.3.{VIN}"
    assert clock_subject(3) == "lienwatch.pos.3._clock"
    assert partition_filter(3) == "lienwatch.pos.3.>"


def test_the_message_id_is_its_content() -> None:
    assert message_id("trackers/a/position", b"{}") == message_id("trackers/a/position", b"{}")
    assert message_id("trackers/a/position", b"{}") != message_id("trackers/b/position", b"{}")


def test_rendezvous_moves_only_the_partitions_of_the_worker_that_left() -> None:
    three = assignment(64, ["w0", "w1", "w2"])
    two = assignment(64, ["w0", "w2"])
    assert set(three.values()) == {"w0", "w1", "w2"}
    for p in range(64):
        if three[p] != "w1":
            assert two[p] == three[p]
        else:
            assert two[p] in {"w0", "w2"}
    assert desired_owner(5, []) is None
    assert assignment(8, []) == {}


def test_rendezvous_spreads_partitions_over_workers() -> None:
    counts: dict[str, int] = {}
    for owner in assignment(64, [f"w{n}" for n in range(4)]).values():
        counts[owner] = counts.get(owner, 0) + 1
    assert min(counts.values()) >= 8  # no worker starved (16 is the even share)


def test_the_partition_clock_waits_for_every_owned_partition() -> None:
    t = datetime(2026, 11, 1, 12, tzinfo=UTC)
    times: dict[int, datetime | None] = {0: t, 1: None}
    clock: Watermark = PartitionClock(timedelta(minutes=5), lambda: times)
    assert clock() is None  # partition 1 has not committed anything yet: no sweep
    times[1] = t + timedelta(hours=2)
    assert clock() == t - timedelta(minutes=5)  # the slowest partition sets the time
    clock.advance(t + timedelta(days=1))  # a batch's fixes do not move it: the partitions do
    assert clock() == t - timedelta(minutes=5)
    assert PartitionClock(timedelta(0), dict)() is None  # nothing owned, nothing swept


def test_ingest_refuses_a_plain_shared_subscription_at_start() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENWATCH_")}
    env |= {"LIENWATCH_MQTT_SHARE_GROUP": "ingest", "COLUMNS": "400"}
    done = subprocess.run(
        [sys.executable, "-m", "lienwatch", "ingest"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, done.stdout
    assert "LIENWATCH_MQTT_SHARE_GROUP is refused" in lines[0]
    assert "round-robin" in lines[0] and "lienwatch router" in lines[0] and "lienwatch worker" in lines[0]


def test_the_wall_clock_waits_until_the_backlog_is_read() -> None:
    caught_up = False
    clock = WallClock(lambda: caught_up)
    assert clock() is None
    caught_up = True
    now = clock()
    assert now is not None and abs((now - datetime.now(UTC)).total_seconds()) < 5
