"""The message stream: deterministic, time-ordered, on the wire contract; messy mode is messy."""

import math
import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from domain.vocabulary import DeviceAlarm
from simulators.messy import Messiness
from simulators.payloads import Message
from simulators.simulation import SimConfig, Simulation, default_start, simulate

START = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
TOPIC = re.compile(r"^trackers/([A-Za-z0-9_.-]+)/position$")
RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
ALARMS = {a.value for a in DeviceAlarm}


class ContractError(ValueError):
    pass


def fix_time(fix: dict[str, Any]) -> int:
    ts = fix["ts"]
    if isinstance(ts, bool) or not isinstance(ts, (int, float, str)):
        raise ContractError(f"ts: {ts!r}")
    if isinstance(ts, str):
        if not RFC3339_Z.match(ts):
            raise ContractError(f"ts: not RFC 3339 UTC: {ts!r}")
        return int(datetime.fromisoformat(ts).timestamp())
    return int(ts)


def check_fix(fix: Any, device_id: str) -> int:
    """Validate one fix against DESIGN.md's wire contract; returns its time."""
    if not isinstance(fix, dict):
        raise ContractError("not an object")
    for name in ("ts", "lat", "lon"):
        if name not in fix:
            raise ContractError(f"missing {name}")
    t = fix_time(fix)
    for name in ("lat", "lon", "accuracy_m", "speed_kmh", "heading", "battery_pct", "power_v"):
        if name in fix and (isinstance(fix[name], bool) or not isinstance(fix[name], (int, float))):
            raise ContractError(f"{name}: not a number")
        if name in fix and not math.isfinite(fix[name]):
            raise ContractError(f"{name}: not finite")
    if not (-90 <= fix["lat"] <= 90 and -180 <= fix["lon"] <= 180) or (fix["lat"], fix["lon"]) == (0, 0):
        raise ContractError("position out of range")
    if not 0 <= fix.get("heading", 0) <= 360 or fix.get("speed_kmh", 0) < 0 or fix.get("accuracy_m", 1) <= 0:
        raise ContractError("heading / speed / accuracy out of range")
    if "ignition" in fix and not isinstance(fix["ignition"], bool):
        raise ContractError("ignition: not a bool")
    if fix.get("source", "gps") not in ("gps", "lbs", "wifi"):
        raise ContractError("source")
    if "alarms" in fix and not (isinstance(fix["alarms"], list) and set(fix["alarms"]) <= ALARMS):
        raise ContractError("alarms")
    if "seq" in fix and (isinstance(fix["seq"], bool) or not isinstance(fix["seq"], int)):
        raise ContractError("seq")
    if fix.get("device_id", device_id) != device_id:
        raise ContractError("device_id does not match the topic")
    return t


def check_message(message: Message) -> list[int]:
    match = TOPIC.match(message.topic)
    if not match:
        raise ContractError(f"topic {message.topic}")
    try:
        body = orjson.loads(message.payload)
    except orjson.JSONDecodeError as exc:
        raise ContractError("bad json") from exc
    fixes = body if isinstance(body, list) else [body]
    if not fixes:
        raise ContractError("empty array")
    return [check_fix(fix, match.group(1)) for fix in fixes]


@pytest.fixture(scope="module")
def clean() -> Simulation:
    return simulate(SimConfig(vehicles=40, days=3, seed=3, start=START))


def test_same_seed_gives_byte_identical_messages(clean: Simulation) -> None:
    again = simulate(SimConfig(vehicles=40, days=3, seed=3, start=START))
    first, second = list(clean.messages()), list(again.messages())
    assert len(first) == clean.message_count() > 10_000
    assert first == second
    other = list(simulate(SimConfig(vehicles=40, days=3, seed=4, start=START)).messages())
    assert [m.payload for m in other[:100]] != [m.payload for m in first[:100]]


def test_messy_mode_is_deterministic_too() -> None:
    config = SimConfig(vehicles=30, days=2, seed=8, start=START, messy=Messiness())
    assert list(simulate(config).messages()) == list(simulate(config).messages())


def test_every_payload_follows_the_wire_contract_in_time_order(clean: Simulation) -> None:
    last = 0
    seqs: dict[str, int] = {}
    for order, message in enumerate(clean.messages()):
        assert message.order == order
        (t,) = check_message(message)
        assert t >= last  # clean stream: published in fix-time order
        last = t
        fix = orjson.loads(message.payload)
        device = message.topic.split("/")[1]
        assert fix["seq"] == seqs.get(device, -1) + 1
        seqs[device] = fix["seq"]
        if device.endswith("-w"):
            assert isinstance(fix["ignition"], bool) and 0 <= fix["power_v"] <= 15
            assert "battery_pct" not in fix
        else:
            assert "ignition" not in fix and 0 < fix["battery_pct"] <= 100
    assert clean.fleet.start <= last < clean.fleet.end


def test_timestamps_come_as_rfc3339_and_epoch(clean: Simulation) -> None:
    kinds = Counter(type(orjson.loads(m.payload)["ts"]).__name__ for m in clean.messages())
    assert kinds["str"] > 0 and kinds["int"] > 0


def test_default_start_keeps_every_fix_in_the_past() -> None:
    now = datetime(2026, 11, 29, 13, 2, 41, tzinfo=UTC)
    start = default_start(3, now)
    assert start == datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
    sim = simulate(
        SimConfig(vehicles=10, days=3, seed=1, start=start, scenarios="none", messy=Messiness(skew_share=1.0))
    )
    latest = max(t for m in sim.messages() for t in _times_or_none(m))
    assert latest < now.timestamp()


def _times_or_none(message: Message) -> list[int]:
    try:
        return check_message(message)
    except ContractError:
        return []


def test_messy_stream_has_duplicates_reordering_backfill_and_malformed() -> None:
    config = SimConfig(
        vehicles=60,
        days=2,
        seed=9,
        start=START,
        messy=Messiness(backfill_share=0.3, skew_share=0.3, malformed_rate=0.01),
    )
    sim = simulate(config)
    messages = list(sim.messages())
    assert len(messages) == sim.message_count()
    bad = [m for m in messages if not _times_or_none(m)]
    assert 0.005 < len(bad) / len(messages) < 0.02
    arrays = [orjson.loads(m.payload) for m in messages if m.payload.startswith(b"[{")]
    assert arrays and max(len(a) for a in arrays) <= 50
    counts = Counter((m.topic, m.payload) for m in messages)
    assert sum(1 for c in counts.values() if c > 1) > 100  # duplicates: the very same bytes again
    late = 0
    newest: dict[str, int] = {}
    for m in messages:
        for t in _times_or_none(m):
            if t < newest.get(m.topic, 0):
                late += 1
            newest[m.topic] = max(newest.get(m.topic, 0), t)
    assert late > 100
    # Backfill and clock skew spare scenario cars, whose ground truth they would blur.
    scenario_topics = {f"trackers/{d.device_id}/position" for m in sim.fleet.members if m.scenario for d in m.devices}
    assert not any(m.topic in scenario_topics for m in messages if m.payload.startswith(b"[{"))
