"""Decoding and validating tracker payloads against the wire contract (DESIGN.md).

Pure: bytes in, accepted Positions and Rejects out; the receive time and limits are arguments.
A message is one JSON object or an array of them (devices upload buffered fixes in one
message). Each fix of an array stands alone: good fixes are accepted, each bad one becomes
a Reject carrying its own bytes, so nothing is lost and nothing valid is held back.

Three other dialects end in the same validation (`_fix`): OwnTracks locations, EMQX's JSON of
JT/T 808 messages, and the raw JT/T 808 frames the native gateway stores (ingest/jt808/), whose
reports become contract fields first; a bulk upload's reports stand alone like an array's fixes.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from domain.ids import DeviceId
from domain.position import REPORTED_FIELDS, Position
from domain.vocabulary import RejectReason
from ingest.jt808 import emqx
from ingest.jt808.uplink import Item, fixes, parse_native_topic, read_message
from ingest.topics import TopicError, TrackerTopic, parse_topic
from wire.jt808.errors import Jt808Error
from wire.jt808.messages import MessageId

_SOURCES = frozenset({"gps", "lbs", "wifi"})
_KNOWN = frozenset(REPORTED_FIELDS)
# OwnTracks location fields -> ours (https://owntracks.org/booklet/tech/json/)
_OWNTRACKS = {
    "tst": "ts",
    "acc": "accuracy_m",
    "vel": "speed_kmh",
    "cog": "heading",
    "batt": "battery_pct",
    "alt": "altitude_m",
}
_OWNTRACKS_DROP = frozenset({"_type", "tid", "t", "conn", "topic"})
# A phone's location service reports -1 for a speed, course or accuracy it does not know.
_OWNTRACKS_UNKNOWN_IF_NEGATIVE = frozenset({"acc", "vel", "cog"})
# Optional numeric fields and their allowed closed ranges.
_RANGES: dict[str, tuple[float, float]] = {
    "accuracy_m": (0.0, 1_000_000.0),
    "speed_kmh": (0.0, 1_000.0),
    "heading": (0.0, 360.0),
    "battery_pct": (0.0, 100.0),
    "power_v": (0.0, 100.0),
}
_TOO_DEEP = "payload: unknown fields nested too deeply"
_MAX_DEPTH = 16  # trackers send flat objects; deeper is hostile and would strain jsonb
_MAX_EPOCH = 4_102_444_800  # 2100-01-01: larger numbers are milliseconds or garbage


@dataclass(frozen=True, slots=True)
class Limits:
    max_payload_bytes: int = 65536
    future_tolerance: timedelta = timedelta(minutes=10)  # Traccar's filter.future is 1 day: too lax
    retention: timedelta = timedelta(days=180)
    # JT/T 808 has no removal flag; vendors that report one use a reserved alarm bit (e.g. 15-17).
    removal_alarm_bit: int | None = None


@dataclass(frozen=True, slots=True)
class Reject:
    reason: RejectReason
    detail: str
    payload: bytes  # the whole message, or the one bad fix of an array
    device_id: DeviceId | None = None


@dataclass(frozen=True, slots=True)
class Decoded:
    device_id: DeviceId | None
    positions: list[Position]
    rejects: list[Reject]


class FixError(ValueError):
    """One fix broke the contract; reason and the field it names."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def decode(topic: str, payload: bytes, received_at: datetime, limits: Limits) -> Decoded:
    """Decode one message (MQTT, or native JT/T 808 frames) into accepted positions and rejects."""
    native = parse_native_topic(topic)
    if native is not None:
        return _native(native, payload, received_at, limits)
    try:
        where = parse_topic(topic)
    except TopicError as exc:
        return Decoded(None, [], [Reject(RejectReason.BAD_TOPIC, str(exc), payload)])
    device = where.device_id
    if len(payload) > limits.max_payload_bytes:
        detail = f"payload: {len(payload)} bytes exceeds the {limits.max_payload_bytes}-byte limit"
        return Decoded(device, [], [Reject(RejectReason.TOO_LARGE, detail, payload, device)])
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        return Decoded(device, [], [Reject(RejectReason.BAD_JSON, f"payload: not JSON ({exc})", payload, device)])
    if where.dialect == "jt808":
        try:
            items = emqx.fixes_from_json(body, device, removal_bit=limits.removal_alarm_bit)
        except Jt808Error as exc:
            return Decoded(device, [], [Reject(exc.reason, exc.detail, payload, device)])
        return _items(items, where, payload, received_at, limits)
    if isinstance(body, dict):
        try:
            return Decoded(device, [_fix(body, where, received_at, limits)], [])
        except FixError as exc:
            return Decoded(device, [], [Reject(exc.reason, exc.detail, payload, device)])
        except RecursionError:
            return Decoded(device, [], [Reject(RejectReason.BAD_SHAPE, _TOO_DEEP, payload, device)])
    if not isinstance(body, list):
        detail = f"payload: expected a JSON object or array, got {type(body).__name__}"
        return Decoded(device, [], [Reject(RejectReason.BAD_SHAPE, detail, payload, device)])
    if not body:
        return Decoded(device, [], [Reject(RejectReason.EMPTY, "payload: empty array", payload, device)])
    positions: list[Position] = []
    rejects: list[Reject] = []
    for index, item in enumerate(body):
        try:
            if not isinstance(item, dict):
                raise FixError(RejectReason.BAD_SHAPE, f"expected an object, got {type(item).__name__}")
            positions.append(_fix(item, where, received_at, limits))
        except FixError as exc:
            detail = f"[{index}] {exc.detail}"
            rejects.append(Reject(exc.reason, detail, _element_bytes(item, payload), device))
        except RecursionError:
            rejects.append(Reject(RejectReason.BAD_SHAPE, f"[{index}] {_TOO_DEEP}", payload, device))
    return Decoded(device, positions, rejects)


def _native(native: tuple[str | None, bool], payload: bytes, received_at: datetime, limits: Limits) -> Decoded:
    """Raw JT/T 808 frames the gateway stored: one terminal message, possibly subpackaged."""
    phone, refused = native
    device = DeviceId(phone) if phone else None
    try:
        message = read_message(payload)
    except Jt808Error as exc:
        return Decoded(device, [], [Reject(exc.reason, exc.detail, payload, device)])
    sender = DeviceId(message.header.phone)
    if refused:
        if message.header.msg_id == MessageId.REGISTER:
            detail = f"registration: terminal {sender} is not a registered device"
            return Decoded(sender, [], [Reject(RejectReason.UNKNOWN_DEVICE, detail, payload, sender)])
        detail = f"message 0x{message.header.msg_id:04x} on a session that did not authenticate as {sender}"
        return Decoded(sender, [], [Reject(RejectReason.UNAUTHENTICATED, detail, payload, sender)])
    if device is not None and sender != device:
        detail = f"header phone {sender!r} does not match session terminal {device!r}"
        return Decoded(device, [], [Reject(RejectReason.DEVICE_MISMATCH, detail, payload, device)])
    try:
        items = fixes(message, removal_bit=limits.removal_alarm_bit)
    except Jt808Error as exc:
        return Decoded(sender, [], [Reject(exc.reason, exc.detail, payload, sender)])
    return _items(items, TrackerTopic(sender, "jt808"), payload, received_at, limits)


def _items(items: list[Item], where: TrackerTopic, payload: bytes, received_at: datetime, limits: Limits) -> Decoded:
    """The fixes of one JT/T 808 message through the contract's validation, each standing alone."""
    device = where.device_id
    positions: list[Position] = []
    rejects: list[Reject] = []
    many = len(items) > 1
    for index, item in enumerate(items):
        prefix = f"[{index}] " if many else ""
        if isinstance(item, Jt808Error):
            rejects.append(Reject(item.reason, prefix + item.detail, payload, device))
            continue
        try:
            positions.append(_fix(item, where, received_at, limits))
        except FixError as exc:
            rejects.append(Reject(exc.reason, prefix + exc.detail, payload, device))
    return Decoded(device, positions, rejects)


def _element_bytes(item: Any, whole: bytes) -> bytes:
    """One fix of an array as bytes for the quarantine; the whole message if it cannot be re-encoded
    (orjson refuses nesting deeper than 254 levels, which its parser accepts)."""
    try:
        return orjson.dumps(item)
    except TypeError:
        return whole


def _fix(raw: Mapping[str, Any], where: TrackerTopic, received_at: datetime, limits: Limits) -> Position:
    if where.dialect == "owntracks":
        raw = _from_owntracks(raw)
    claimed = raw.get("device_id")
    if claimed is not None and claimed != where.device_id:
        raise FixError(
            RejectReason.DEVICE_MISMATCH,
            f"device_id: {claimed!r} does not match topic device {where.device_id!r}",
        )
    ts = _timestamp(raw)
    if ts - received_at > limits.future_tolerance:
        raise FixError(
            RejectReason.FUTURE_FIX,
            f"ts: {ts.isoformat()} is ahead of receive time {received_at.isoformat()}",
        )
    if received_at - ts > limits.retention:
        raise FixError(RejectReason.EXPIRED_FIX, f"ts: {ts.isoformat()} is older than the retention period")
    lat = _coordinate(raw, "lat", 90.0)
    lon = _coordinate(raw, "lon", 180.0)
    if lat == 0.0 and lon == 0.0:
        raise FixError(RejectReason.ZERO_POSITION, "lat, lon: (0, 0) is a tracker with no fix")
    numbers = {name: _optional_number(raw, name, bounds) for name, bounds in _RANGES.items()}
    extra = {k: v for k, v in raw.items() if k not in _KNOWN}
    deep = _too_deep(extra) if extra else None
    if deep is not None:
        raise FixError(RejectReason.BAD_SHAPE, f"{deep[:40]}: unknown field nested deeper than {_MAX_DEPTH} levels")
    if extra and _has_nul(extra):
        # PostgreSQL text and jsonb cannot hold U+0000: keep the field, mark the replacement.
        extra = {**_without_nul(extra), "_nul_replaced": True}
    return Position(
        device_id=where.device_id,
        ts=ts,
        lat=lat,
        lon=lon,
        received_at=received_at,
        accuracy_m=numbers["accuracy_m"],
        speed_kmh=numbers["speed_kmh"],
        heading=numbers["heading"],
        ignition=_optional_bool(raw, "ignition"),
        source=_source(raw),
        battery_pct=numbers["battery_pct"],
        power_v=numbers["power_v"],
        alarms=_alarms(raw),
        seq=_seq(raw),
        extra=extra or None,
    )


def _too_deep(extra: dict[str, Any]) -> str | None:
    """The first unknown field nesting deeper than _MAX_DEPTH, if any (checked without recursion)."""
    for key, top in extra.items():
        if not isinstance(top, (dict, list)):
            continue
        stack: list[tuple[Any, int]] = [(top, 1)]
        while stack:
            value, depth = stack.pop()
            if depth > _MAX_DEPTH:
                return key
            children = value.values() if isinstance(value, dict) else value
            stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return None


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def _from_owntracks(raw: Mapping[str, Any]) -> dict[str, Any]:
    kind = raw.get("_type")
    if kind == "encrypted":
        detail = "_type: encrypted OwnTracks payloads are not supported (clear the app's encryption key)"
        raise FixError(RejectReason.UNSUPPORTED, detail)
    if kind != "location":
        raise FixError(RejectReason.BAD_SHAPE, f"_type: {kind!r} is not an OwnTracks location")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _OWNTRACKS_DROP:
            continue
        if key in _OWNTRACKS_UNKNOWN_IF_NEGATIVE and _is_number(value) and value < 0:
            continue
        out[_OWNTRACKS.get(key, key)] = value
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _timestamp(raw: Mapping[str, Any]) -> datetime:
    value = raw.get("ts")
    if value is None:
        raise FixError(RejectReason.MISSING_FIELD, "ts: required")
    if _is_number(value):
        if not math.isfinite(value) or value <= 0 or value > _MAX_EPOCH:
            raise FixError(RejectReason.OUT_OF_RANGE, f"ts: epoch seconds {value!r} out of range")
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise FixError(RejectReason.BAD_TYPE, f"ts: {value[:40]!r} is not RFC 3339") from exc
        if parsed.tzinfo is None:
            raise FixError(RejectReason.BAD_TYPE, f"ts: {value[:40]!r} has no UTC offset (RFC 3339 needs one)")
        try:
            return parsed.astimezone(UTC)
        except OverflowError as exc:  # e.g. 0001-01-01T00:00+01:00 is before year 1 in UTC
            raise FixError(RejectReason.OUT_OF_RANGE, f"ts: {value[:40]!r} is outside years 1-9999 in UTC") from exc
    raise FixError(RejectReason.BAD_TYPE, f"ts: expected RFC 3339 string or epoch seconds, got {type(value).__name__}")


def _coordinate(raw: Mapping[str, Any], name: str, bound: float) -> float:
    value = raw.get(name)
    if value is None:
        raise FixError(RejectReason.MISSING_FIELD, f"{name}: required")
    if not _is_number(value):
        raise FixError(RejectReason.BAD_TYPE, f"{name}: expected a number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise FixError(RejectReason.BAD_TYPE, f"{name}: not a finite number")
    if not -bound <= number <= bound:
        raise FixError(RejectReason.OUT_OF_RANGE, f"{name}: {number} outside [-{bound:g}, {bound:g}]")
    return number


def _optional_number(raw: Mapping[str, Any], name: str, bounds: tuple[float, float]) -> float | None:
    value = raw.get(name)
    if value is None:
        return None
    if not _is_number(value):
        raise FixError(RejectReason.BAD_TYPE, f"{name}: expected a number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise FixError(RejectReason.BAD_TYPE, f"{name}: not a finite number")
    low, high = bounds
    if not low <= number <= high:
        raise FixError(RejectReason.OUT_OF_RANGE, f"{name}: {number:g} outside [{low:g}, {high:g}]")
    return number


def _optional_bool(raw: Mapping[str, Any], name: str) -> bool | None:
    value = raw.get(name)
    if value is None or isinstance(value, bool):
        return value
    raise FixError(RejectReason.BAD_TYPE, f"{name}: expected true or false, got {type(value).__name__}")


def _source(raw: Mapping[str, Any]) -> str:
    value = raw.get("source", "gps")
    if value is None:
        return "gps"
    if not isinstance(value, str) or value not in _SOURCES:
        raise FixError(RejectReason.BAD_TYPE, f"source: {str(value)[:20]!r} is not one of gps, lbs, wifi")
    return str(value)


def _alarms(raw: Mapping[str, Any]) -> tuple[str, ...]:
    value = raw.get("alarms")
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(a, str) and a and "\x00" not in a for a in value):
        raise FixError(RejectReason.BAD_TYPE, "alarms: expected a list of non-empty strings")
    # Unknown alarm names are kept: a new device firmware must not lose its alarms.
    return tuple(value)


def _seq(raw: Mapping[str, Any]) -> int | None:
    value = raw.get("seq")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**63:
        raise FixError(RejectReason.BAD_TYPE, "seq: expected a non-negative 64-bit integer")
    return value
