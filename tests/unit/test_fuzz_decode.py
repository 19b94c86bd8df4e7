"""Fuzzing the MQTT payload decoder: no crash, no hang, nothing lost.

About 10,500 generated cases over four strategies (arbitrary bytes, JSON-ish structures
with the contract's field names, valid fixes mutated one field at a time, valid fixes
hidden among garbage in an array). The properties hold for every case:

- decode() returns (never raises) within a second;
- the message is covered: an object is one position or one reject, a non-empty array
  yields exactly one position or one reject per element, anything else one reject;
- every reject names a RejectReason, carries a storable detail and its own bytes;
- every accepted Position satisfies the wire contract and can be encoded as a COPY row
  that PostgreSQL will take.

derandomize=True and no example database: CI runs the same cases every time.
"""

import json
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from psycopg import adapters
from psycopg.adapt import PyFormat, Transformer
from psycopg.pq import Format

from domain.position import Position
from domain.vocabulary import DeviceAlarm, RejectReason
from ingest.decode import Decoded, Limits, decode
from ingest.topics import TopicError, parse_topic
from storage.positions import COPY_TYPES, copy_row

RECEIVED = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)
_CST = timezone(timedelta(hours=8))
LIMITS = Limits()
DEVICE = "fz-1"
TOPIC = f"trackers/{DEVICE}/position"
OWNTRACKS_TOPIC = "owntracks/fz/phone"
BAD_TOPICS = ["trackers//position", "trackers/fz-1/position/x", "fz-1", "", "trackers/fz-1/command"]
MAX_DECODE_S = 1.0  # a 256 KiB payload decodes in milliseconds; a second means a pathological path

FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# What the contract (DESIGN.md) and the positions table allow for the optional numbers:
# heading is a course in degrees, battery a percentage, none of them negative, and each is
# stored as float4, so it must be finite as a 32-bit float too.
_FLOAT4_MAX = 3.4028234663852886e38
_OPTIONAL_NUMBERS = {
    "accuracy_m": (0.0, _FLOAT4_MAX),
    "speed_kmh": (0.0, _FLOAT4_MAX),
    "heading": (0.0, 360.0),
    "battery_pct": (0.0, 100.0),
    "power_v": (0.0, _FLOAT4_MAX),
}
_FIELDS = ["ts", "lat", "lon", "accuracy_m", "speed_kmh", "heading", "ignition", "source"]
_FIELDS += ["battery_pct", "power_v", "alarms", "seq", "device_id"]
_OWNTRACKS_FIELDS = ["_type", "tst", "acc", "vel", "cog", "batt", "tid"]

_COPY_OIDS = [adapters.types.get_oid(t) for t in COPY_TYPES]


# ---------------------------------------------------------------- the properties


def _decode_checked(topic: str, payload: bytes) -> Decoded:
    """Decode one message and assert every property that holds for any input."""
    started = time.perf_counter()
    decoded = decode(topic, payload, RECEIVED, LIMITS)
    elapsed = time.perf_counter() - started
    assert elapsed < MAX_DECODE_S, f"decode took {elapsed:.2f}s on {len(payload)} bytes"

    try:
        device: str | None = parse_topic(topic).device_id
    except TopicError:
        device = None
    assert decoded.device_id == device
    for reject in decoded.rejects:
        _assert_reject(reject.reason, reject.detail, reject.device_id, device)
    for position in decoded.positions:
        _assert_contract(position, device)

    items = _array_items(topic, payload)
    if items is None:  # one indivisible message: one fix, or one reject holding all its bytes
        assert len(decoded.positions) + len(decoded.rejects) == 1
        if decoded.rejects:
            assert decoded.rejects[0].payload == payload
    else:  # each element of the array is accounted for exactly once
        assert len(decoded.positions) + len(decoded.rejects) == len(items)
        indexes = [int(r.detail[1 : r.detail.index("]")]) for r in decoded.rejects]
        assert len(set(indexes)) == len(indexes)
        for index, reject in zip(indexes, decoded.rejects, strict=True):
            assert reject.payload == _own_bytes(items[index], payload)
    return decoded


def _own_bytes(item: Any, payload: bytes) -> bytes:
    """What a rejected array element is quarantined with: its own JSON, or the whole message."""
    try:
        return orjson.dumps(item)
    except orjson.JSONEncodeError:  # deeper than orjson writes: keep the bytes as they came
        return payload


def _array_items(topic: str, payload: bytes) -> list[Any] | None:
    """The elements when the message is a non-empty JSON array the decoder reads element-wise."""
    try:
        parse_topic(topic)
        body = orjson.loads(payload)
    except (TopicError, orjson.JSONDecodeError):
        return None
    if len(payload) > LIMITS.max_payload_bytes or not isinstance(body, list) or not body:
        return None
    return body


def _assert_reject(reason: object, detail: object, device_id: object, device: str | None) -> None:
    assert isinstance(reason, RejectReason) and reason.value
    assert isinstance(detail, str) and detail.strip()
    assert "\x00" not in detail  # quarantine.detail is text: PostgreSQL refuses NUL in text
    assert device_id == device


def _assert_contract(p: Position, device: str | None) -> None:
    assert p.device_id == device
    assert isinstance(p.lat, float) and math.isfinite(p.lat) and -90.0 <= p.lat <= 90.0
    assert isinstance(p.lon, float) and math.isfinite(p.lon) and -180.0 <= p.lon <= 180.0
    assert (p.lat, p.lon) != (0.0, 0.0)
    assert p.ts.tzinfo is not None and p.ts.utcoffset() == timedelta(0)
    assert p.ts - RECEIVED <= LIMITS.future_tolerance
    assert RECEIVED - p.ts <= LIMITS.retention
    assert p.received_at == RECEIVED
    assert p.source in {"gps", "lbs", "wifi"}
    for name, (low, high) in _OPTIONAL_NUMBERS.items():
        value = getattr(p, name)
        assert value is None or (isinstance(value, float) and math.isfinite(value) and low <= value <= high), name
    assert p.ignition is None or isinstance(p.ignition, bool)
    assert all(isinstance(a, str) and a and "\x00" not in a for a in p.alarms)
    assert p.seq is None or (type(p.seq) is int and 0 <= p.seq < 2**63)
    _assert_copyable(p)


def _assert_copyable(p: Position) -> None:
    """copy_row(p) encodes with the binary COPY types, and the jsonb is one PostgreSQL accepts."""
    tx = Transformer()
    tx.set_dumper_types(_COPY_OIDS, Format.BINARY)
    row = copy_row(p)
    assert len(row) == len(COPY_TYPES)
    dumped = tx.dump_sequence(row, [PyFormat.BINARY] * len(row))
    extra = dumped[COPY_TYPES.index("jsonb")]
    if extra is not None:
        # jsonb cannot hold U+0000 ("unsupported Unicode escape sequence"): such a row fails
        # the whole COPY, so an accepted position must never carry one.
        assert bytes(extra[:1]) == b"\x01"  # jsonb binary format version 1, then the JSON text
        assert not _has_nul(json.loads(bytes(extra[1:]))), f"extra {p.extra!r} is not storable as jsonb"


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    return False


# ---------------------------------------------------------------- JSON text with hostile parts


@dataclass(frozen=True, slots=True)
class Raw:
    """JSON text inserted verbatim (numbers no Python float can hold, lone surrogates, NaN)."""

    text: str


def to_json(value: Any, ascii_only: bool) -> str:
    """Serialise with our own hand, so the payload can hold what json.dumps would refuse."""
    if isinstance(value, Raw):
        return value.text
    if value is None or isinstance(value, (bool, int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=ascii_only)
    if isinstance(value, list):
        return "[" + ",".join(to_json(v, ascii_only) for v in value) + "]"
    pairs = (f"{json.dumps(str(k), ensure_ascii=ascii_only)}:{to_json(v, ascii_only)}" for k, v in value.items())
    return "{" + ",".join(pairs) + "}"


_RAW_NUMBERS = [
    "1e400", "-1e400", "1e-400", "-0", "-0.0", "5e-324", "1.7976931348623157e308", "-1e308",
    "123456789012345678901234567890", "18446744073709551615", "18446744073709551616",
    "9223372036854775807", "9223372036854775808", "-9223372036854775809", "4102444800", "4102444801",
    "NaN", "Infinity", "-Infinity", "1.0e+2", "01", "1.", ".5", "0x10",
]  # fmt: skip
_RAW_STRINGS = ['"\\ud800"', '"\\udfff"', '"a\\u0000b"', '"\\u0000"', '"\\uffff"', '"\\ud83d\\ude97"']
# Nested arrays: orjson reads up to 1,024 levels but writes only 254.
_RAW_NESTED = ["[" * depth + "]" * depth for depth in (10, 254, 255, 256, 1000)]


def _parses(text: str) -> bool:
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True


_RAW_VALID = [Raw(t) for t in _RAW_NUMBERS + _RAW_STRINGS + _RAW_NESTED if _parses(t)]

_near = st.integers(-200 * 86400, 3600).map(lambda s: RECEIVED + timedelta(seconds=s))
_timestamps = st.one_of(
    _near.map(lambda t: t.isoformat().replace("+00:00", "Z")),
    _near.map(lambda t: t.astimezone().isoformat()),
    _near.map(lambda t: t.replace(tzinfo=None).isoformat()),
    _near.map(lambda t: int(t.timestamp())),
    _near.map(lambda t: t.timestamp() + 0.5),
    _near.map(lambda t: int(t.timestamp() * 1000)),  # milliseconds: a common firmware mistake
    st.sampled_from(["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-02-30T00:00:00Z", "now"]),
)
_texts = st.text(max_size=30) | st.text(st.characters(codec="utf-8"), max_size=8).map(lambda s: s + "\x00" + s)
_valid_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(-200, 200),
    _texts,
    st.sampled_from(_RAW_VALID),
    st.sampled_from(["gps", "lbs", "wifi", "GPS", "", DEVICE, "fz-2", "location"]),
    st.sampled_from([a.value for a in DeviceAlarm]),
    _timestamps,
)
_keys = st.sampled_from(_FIELDS + _OWNTRACKS_FIELDS) | st.text(max_size=12)


def _trees(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4), max_leaves=6
    )


valid_json_values = _trees(_valid_leaves)  # always parses: garbage that still leaves the array readable
_any_leaves = _valid_leaves | st.sampled_from(_RAW_NUMBERS + _RAW_STRINGS).map(Raw)
json_values = _trees(_any_leaves)
field_values = _any_leaves | json_values  # mostly scalars: what a field of a real payload holds


@st.composite
def json_messages(draw: st.DrawFn) -> tuple[str, bytes]:
    """An object with the contract's (or OwnTracks') field names and any values, maybe wrapped."""
    names = draw(st.sampled_from([_FIELDS, [*_OWNTRACKS_FIELDS, "lat", "lon"]]))
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    body: dict[str, Any] = {name: draw(field_values) for name in chosen}
    body.update(draw(st.dictionaries(st.text(max_size=10), field_values, max_size=2)))
    value: Any = body
    shape = draw(st.sampled_from(["object", "array", "mixed_array", "nested", "scalar", "pad"]))
    if shape == "array":
        value = draw(st.lists(st.just(body), min_size=0, max_size=3))
    elif shape == "mixed_array":
        value = [*draw(st.lists(json_values, max_size=4)), body]
    elif shape == "scalar":
        value = draw(json_values)
    text = to_json(value, draw(st.booleans()))
    if shape == "nested":  # around and beyond orjson's 1,024-level limit
        depth = draw(st.integers(1, 1100))
        text = "[" * depth + text + "]" * depth
    if shape == "pad":  # around the 64 KiB limit
        size = draw(st.sampled_from([60_000, 65_400, 65_536, 70_000, 200_000]))
        text = text[:-1] + ("," if len(text) > 2 else "") + '"pad":"' + "x" * size + '"}'
    topic = draw(st.sampled_from([TOPIC, OWNTRACKS_TOPIC] if names is not _FIELDS else [TOPIC, TOPIC, BAD_TOPICS[0]]))
    return topic, text.encode("utf-8", "surrogatepass")


# ---------------------------------------------------------------- valid fixes and their mutations


@st.composite
def valid_fixes(draw: st.DrawFn) -> tuple[dict[str, Any], datetime]:
    """A fix inside the contract, and the fix time the decoder must read from it."""
    ts = RECEIVED + timedelta(
        seconds=draw(st.integers(-179 * 86400, 590)), microseconds=draw(st.sampled_from([0, 250_000]))
    )
    form = draw(st.sampled_from(["z", "offset", "epoch", "epoch_float"]))
    stamp: Any
    if form == "z":
        stamp = ts.isoformat().replace("+00:00", "Z")
    elif form == "offset":
        stamp = ts.astimezone(_CST).isoformat()
    elif form == "epoch":
        ts = ts.replace(microsecond=0)
        stamp = int(ts.timestamp())
    else:
        stamp = ts.timestamp()
    lat = draw(st.floats(-90, 90))
    lon = draw(st.floats(-180, 180).filter(lambda x: (lat, x) != (0.0, 0.0)))
    fix: dict[str, Any] = {"ts": stamp, "lat": lat, "lon": lon}
    optional = {
        "accuracy_m": st.floats(0, 1e6),
        "speed_kmh": st.floats(0, 1000),
        "heading": st.floats(0, 360),
        "ignition": st.booleans(),
        "source": st.sampled_from(["gps", "lbs", "wifi"]),
        "battery_pct": st.integers(0, 100),
        "power_v": st.floats(0, 100),
        "alarms": st.lists(st.sampled_from([a.value for a in DeviceAlarm] + ["future_alarm"]), max_size=3),
        "seq": st.integers(0, 2**63 - 1),
        "device_id": st.just(DEVICE),
        "firmware": st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=10),
    }
    for name in draw(st.lists(st.sampled_from(sorted(optional)), unique=True)):
        fix[name] = draw(optional[name])
    return fix, ts


A, R, EITHER = "accept", "reject", "either"
_future = RECEIVED + timedelta(minutes=11)
_expired = RECEIVED - timedelta(days=181)
_in_range = RECEIVED - timedelta(minutes=1)
# (field, value, expected outcome) for one field of a valid fix; None deletes the field.
_MUTATIONS: list[tuple[str, Any, str]] = [
    ("ts", None, R), ("ts", Raw("null"), R), ("ts", True, R), ("ts", [], R), ("ts", {}, R), ("ts", "", R),
    ("ts", "yesterday", R), ("ts", "2026-11-29T11:59:00", R), ("ts", "0001-01-01T00:00:00+01:00", R),
    ("ts", "9999-12-31T23:59:59-01:00", R), ("ts", 0, R), ("ts", -1, R), ("ts", 4102444801, R),
    ("ts", 1e20, R), ("ts", _future.isoformat(), R), ("ts", _expired.isoformat(), R),
    ("ts", int(_in_range.timestamp() * 1000), R), ("ts", _in_range.isoformat(), A),
    ("ts", (RECEIVED + timedelta(minutes=9)).timestamp(), A),
    ("lat", None, R), ("lat", Raw("null"), R), ("lat", "31.2", R), ("lat", True, R), ("lat", [31.2], R),
    ("lat", {}, R), ("lat", 90.0, A), ("lat", -90, A), ("lat", 90.000001, R), ("lat", -1e308, R),
    ("lon", None, R), ("lon", "121.4", R), ("lon", False, R), ("lon", 180, A), ("lon", -180.0, A),
    ("lon", 180.000001, R), ("lon", 1e308, R),
    ("accuracy_m", None, A), ("accuracy_m", Raw("null"), A), ("accuracy_m", 0, A), ("accuracy_m", 1e6, A),
    ("accuracy_m", -0.001, R), ("accuracy_m", 1e300, R), ("accuracy_m", "5", R), ("accuracy_m", True, R),
    ("speed_kmh", 0, A), ("speed_kmh", 1000, A), ("speed_kmh", -1, R), ("speed_kmh", 1e9, R),
    ("speed_kmh", [], R),
    ("heading", 0, A), ("heading", 360, A), ("heading", 360.01, R), ("heading", -0.01, R), ("heading", "N", R),
    ("battery_pct", 0, A), ("battery_pct", 100, A), ("battery_pct", 100.5, R), ("battery_pct", -1, R),
    ("power_v", 0, A), ("power_v", 12.6, A), ("power_v", -12, R), ("power_v", 1e6, R), ("power_v", {}, R),
    ("ignition", True, A), ("ignition", False, A), ("ignition", Raw("null"), A), ("ignition", 1, R),
    ("ignition", "true", R), ("ignition", [], R),
    ("source", "gps", A), ("source", "lbs", A), ("source", "wifi", A), ("source", Raw("null"), A),
    ("source", "GPS", R), ("source", "", R), ("source", 1, R), ("source", True, R), ("source", [], R),
    ("source", ["gps"], R), ("source", {}, R),
    ("alarms", [], A), ("alarms", ["sos"], A), ("alarms", ["future_alarm"], A), ("alarms", "sos", R),
    ("alarms", [""], R), ("alarms", [1], R), ("alarms", ["tamper\x00"], R), ("alarms", {}, R),
    ("alarms", [["sos"]], R),
    ("seq", 0, A), ("seq", 2**63 - 1, A), ("seq", -1, R), ("seq", 2**63, R), ("seq", 1.5, R), ("seq", "1", R),
    ("seq", True, R), ("seq", Raw("1e400"), R),
    ("device_id", DEVICE, A), ("device_id", Raw("null"), A), ("device_id", "fz-2", R), ("device_id", "", R),
    ("device_id", [DEVICE], R), ("device_id", {"id": DEVICE}, R), ("device_id", 1, R),
    # Unknown fields are kept whatever they hold, including what PostgreSQL's jsonb cannot.
    ("firmware", "v2.1", A), ("firmware", "二押点 🚗", A), ("firmware", "a\x00b", A), ("firmware", {"k\x00": 1}, A),
    ("firmware", ["\x00"], A), ("firmware", "\\u0000", A),
]  # fmt: skip
_ORACLE_FIELDS = sorted({f for f, _, _ in _MUTATIONS})


@st.composite
def mutated_fixes(draw: st.DrawFn) -> tuple[bytes, str, Any, str, datetime]:
    """A valid fix with one field deleted or replaced, and what the decoder must make of it."""
    fix, ts = draw(valid_fixes())
    if draw(st.integers(0, 3)) == 0:  # any value at all in a known field, or in an unknown one
        name = draw(st.sampled_from([*_ORACLE_FIELDS, "firmware", "ts"]))
        value = draw(json_values.map(lambda v: Raw("null") if v is None else v))
        # Unknown fields are kept unless they nest deeper than the decoder's limit (hostile).
        expected = A if name == "firmware" and _depth(value) <= MAX_UNKNOWN_DEPTH else EITHER
    else:
        name, value, expected = draw(st.sampled_from(_MUTATIONS))
    if value is None:
        fix.pop(name, None)
    else:
        fix[name] = value
    return to_json(fix, draw(st.booleans())).encode("utf-8", "surrogatepass"), name, value, expected, ts


MAX_UNKNOWN_DEPTH = 16  # ingest/decode.py refuses unknown fields nested deeper


def _depth(value: Any) -> int:
    """Nesting depth of a JSON value (a scalar is 0, [1] is 1); Raw text counts as what it parses to."""
    deepest = 0
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Raw):
            item = orjson.loads(item.text) if _parses(item.text) else None
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
            deepest = max(deepest, depth + 1)
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
            deepest = max(deepest, depth + 1)
    return deepest


def nul_free(value: Any) -> Any:
    """The value with U+0000 (and a U+FFFD put in its place) removed from every string."""
    if isinstance(value, str):
        return value.replace("\x00", "").replace("\ufffd", "")
    if isinstance(value, list):
        return [nul_free(v) for v in value]
    if isinstance(value, dict):
        return {nul_free(k): nul_free(v) for k, v in value.items()}
    return value


# ---------------------------------------------------------------- the tests


@settings(FUZZ, max_examples=3000)
@given(topic=st.sampled_from([TOPIC, OWNTRACKS_TOPIC, *BAD_TOPICS]), payload=st.binary(max_size=512))
def test_arbitrary_bytes_never_crash_and_are_quarantined_whole(topic: str, payload: bytes) -> None:
    _decode_checked(topic, payload)


@settings(FUZZ, max_examples=3000)
@given(message=json_messages())
def test_json_like_structures_are_accepted_only_inside_the_contract(message: tuple[str, bytes]) -> None:
    decoded = _decode_checked(*message)
    event("accepted" if decoded.positions else "rejected")  # --hypothesis-show-statistics


@settings(FUZZ, max_examples=3000)
@given(case=mutated_fixes())
def test_one_field_mutation_is_judged_on_that_field(case: tuple[bytes, str, Any, str, datetime]) -> None:
    payload, name, value, expected, ts = case
    decoded = _decode_checked(TOPIC, payload)
    try:
        orjson.loads(payload)
    except orjson.JSONDecodeError:  # the new value is no JSON (1e400, NaN, a lone surrogate)
        assert [r.reason for r in decoded.rejects] == [RejectReason.BAD_JSON]
        return
    if expected == A:
        assert not decoded.rejects, decoded.rejects[0].detail
    elif expected == R:
        assert not decoded.positions, f"{name}={value!r} was accepted"
    if decoded.rejects:  # the only bad field is the mutated one, and the detail names it
        # lat or lon set to 0 where the other one is 0 already is the (0, 0) no-fix position
        names = (f"{name}:", "lat, lon:") if name in ("lat", "lon") else (f"{name}:",)
        assert decoded.rejects[0].detail.startswith(names), decoded.rejects[0].detail
        return
    (p,) = decoded.positions
    if name == "firmware":  # unknown fields are kept, whatever they hold (NUL aside: jsonb cannot)
        assert p.extra is not None
        assert nul_free(p.extra["firmware"]) == nul_free(orjson.loads(to_json(value, True)))
    elif name in _OPTIONAL_NUMBERS and isinstance(value, (int, float)) and not isinstance(value, bool):
        assert getattr(p, name) == float(value)
    elif name != "ts":
        assert abs(p.ts - ts) < timedelta(milliseconds=1)


@settings(FUZZ, max_examples=1500)
@given(
    fixes=st.lists(valid_fixes(), min_size=1, max_size=4),
    garbage=st.lists(valid_json_values, min_size=1, max_size=6),
    order=st.randoms(use_true_random=False),
)
def test_valid_fixes_among_garbage_siblings_are_never_lost(
    fixes: list[tuple[dict[str, Any], datetime]], garbage: list[Any], order: Any
) -> None:
    items: list[Any] = [f for f, _ in fixes] + garbage
    order.shuffle(items)
    decoded = _decode_checked(TOPIC, to_json(items, ascii_only=False).encode())
    accepted = [(p.lat, p.lon, p.ts) for p in decoded.positions]
    for fix, ts in fixes:
        assert any(
            (lat, lon) == (float(fix["lat"]), float(fix["lon"])) and abs(t - ts) < timedelta(milliseconds=1)
            for lat, lon, t in accepted
        ), f"valid fix {fix!r} lost among garbage"


@pytest.mark.parametrize(
    ("size", "reason"),
    [
        (LIMITS.max_payload_bytes, None),
        (LIMITS.max_payload_bytes + 1, RejectReason.TOO_LARGE),
        (200 * 1024, RejectReason.TOO_LARGE),
    ],
)
def test_payload_size_limit_is_exact(size: int, reason: RejectReason | None) -> None:
    head = b'{"ts":"2026-11-29T11:59:00Z","lat":31.2304,"lon":121.4737,"pad":"'
    payload = head + b"x" * (size - len(head) - 2) + b'"}'
    assert len(payload) == size
    decoded = _decode_checked(TOPIC, payload)
    assert [r.reason for r in decoded.rejects] == ([reason] if reason else [])
    assert len(decoded.positions) == (0 if reason else 1)


# The smallest cases the fuzzers above found raising instead of rejecting, before commit 900f387.
# Each one, in a running ingestor, killed the writer thread: nothing after it was stored.
_DEEP = b"[" * 256 + b"]" * 256
POISON = {
    "source_is_a_list": b'{"ts":"2026-11-29T11:59:00Z","lat":31.2304,"lon":121.4737,"source":[]}',
    "source_is_an_object": b'{"ts":"2026-11-29T11:59:00Z","lat":31.2304,"lon":121.4737,"source":{}}',
    "ts_before_year_1_in_utc": b'{"ts":"0001-01-01T00:00:00+01:00","lat":31.2304,"lon":121.4737}',
    "ts_after_year_9999_in_utc": b'{"ts":"9999-12-31T23:59:59-01:00","lat":31.2304,"lon":121.4737}',
    "array_element_nested_256_deep": _DEEP,
    "bad_fix_with_deep_unknown_field": b'[{"lat":1,"x":' + _DEEP + b"}]",
}


@pytest.mark.parametrize("payload", list(POISON.values()), ids=list(POISON))
def test_poison_payload_is_rejected_not_raised(payload: bytes) -> None:
    decoded = _decode_checked(TOPIC, payload)
    assert decoded.positions == []
    assert len(decoded.rejects) == 1
