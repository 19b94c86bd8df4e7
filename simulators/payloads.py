"""Fixes to MQTT messages on the wire contract: topic trackers/{device_id}/position, JSON payload.

A schedule says which fix goes out when, alone or inside a buffered array, intact or malformed;
`encode` turns it into the time-ordered message stream. This is the hot path of the benchmarks, so
columns are converted to Python lists once and each payload is one dict and one orjson call.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import orjson

from simulators.track import IntArray
from simulators.trackers import ALARM_BITS, NOT_REPORTED, SOURCES, Fixes

# Malformed variants, one per way a tracker or a network garbles a message (see ingest's RejectReason).
MALFORMED = (
    "truncated",
    "lat_not_number",
    "missing_lat",
    "lat_out_of_range",
    "zero_position",
    "bad_ts",
    "not_an_object",
    "empty_array",
    "device_mismatch",
)


class Message(NamedTuple):
    """One MQTT publish. A NamedTuple, not a dataclass: the benchmarks make millions of these."""

    order: int
    topic: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class Device:
    device_id: str
    wired: bool
    epoch_ts: bool  # firmware that stamps epoch seconds instead of RFC 3339


@dataclass(frozen=True, slots=True)
class Schedule:
    """Per outgoing entry: the fix row, when it is published, its array group (-1: alone), and the
    malformed variant (-1: intact). `ts_offset` is each device's clock error, seconds."""

    row: IntArray
    publish_t: IntArray
    group: IntArray
    bad: npt.NDArray[np.int8]
    ts_offset: IntArray

    @staticmethod
    def clean(fixes: Fixes, devices: int) -> "Schedule":
        """Every fix published alone, intact, at its fix time, by a device with a correct clock."""
        n = len(fixes)
        return Schedule(
            np.arange(n, dtype=np.int64),
            fixes.t.copy(),
            np.full(n, -1, dtype=np.int64),
            np.full(n, -1, dtype=np.int8),
            np.zeros(devices, dtype=np.int64),
        )

    def message_count(self) -> int:
        """How many MQTT messages this schedule makes."""
        single = int(np.count_nonzero(self.group < 0))
        return single + len(np.unique(self.group[self.group >= 0]))


def _alarm_lists(mask: npt.NDArray[np.int8]) -> list[list[str] | None]:
    out: list[list[str] | None] = [None] * len(mask)
    for i in np.flatnonzero(mask).tolist():
        bits = int(mask[i])
        out[i] = [alarm.value for alarm, bit in ALARM_BITS.items() if bits & bit]
    return out


def _ts_column(t: IntArray, epoch: npt.NDArray[np.bool_]) -> list[Any]:
    text = np.datetime_as_string(t.astype("datetime64[s]"), unit="s", timezone="UTC").tolist()
    return [int(v) if e else s for v, s, e in zip(t.tolist(), text, epoch.tolist(), strict=True)]


def _malformed(variant: str, obj: dict[str, Any], good: bytes) -> bytes:
    if variant == "truncated":
        return good[: len(good) // 2]
    if variant == "not_an_object":
        return b'"position"'
    if variant == "empty_array":
        return b"[]"
    bad = dict(obj)
    if variant == "lat_not_number":
        bad["lat"] = "31.2x"
    elif variant == "missing_lat":
        del bad["lat"]
    elif variant == "lat_out_of_range":
        bad["lat"] = 95.5
    elif variant == "zero_position":
        bad["lat"], bad["lon"] = 0.0, 0.0
    elif variant == "bad_ts":
        bad["ts"] = "yesterday"
    else:
        bad["device_id"] = "somebody-else"
    return orjson.dumps(bad)


def encode(fixes: Fixes, seq: IntArray, devices: Sequence[Device], schedule: Schedule) -> Iterator[Message]:
    """The schedule's messages in publish order (ties: array group, then fix time)."""
    order = np.lexsort((fixes.t[schedule.row], schedule.group, schedule.publish_t))
    rows = schedule.row[order]
    groups = schedule.group[order].tolist()
    bads = schedule.bad[order].tolist()
    sub = fixes.take(rows)
    dev = sub.device.tolist()
    epoch = np.asarray([devices[d].epoch_ts for d in range(len(devices))], dtype=np.bool_)
    ts = _ts_column(sub.t + schedule.ts_offset[sub.device], epoch[sub.device])
    lat, lon = np.round(sub.lat, 6).tolist(), np.round(sub.lon, 6).tolist()
    acc, speed = np.round(sub.accuracy_m, 1).tolist(), np.round(sub.speed_kmh, 1).tolist()
    heading = np.round(sub.heading, 1).tolist()
    ign = sub.ignition.tolist()
    src = [SOURCES[s] for s in sub.source.tolist()]
    battery, power = np.round(sub.battery_pct, 1).tolist(), np.round(sub.power_v, 2).tolist()
    alarms = _alarm_lists(sub.alarms)
    seqs = seq[rows].tolist()
    topics = [f"trackers/{d.device_id}/position" for d in devices]
    wired = [d.wired for d in devices]

    def fix(i: int) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "ts": ts[i],
            "lat": lat[i],
            "lon": lon[i],
            "accuracy_m": acc[i],
            "speed_kmh": speed[i],
            "heading": heading[i],
        }
        if ign[i] != NOT_REPORTED:
            obj["ignition"] = ign[i] == 1
        obj["source"] = src[i]
        if wired[dev[i]]:
            obj["power_v"] = power[i]
        else:
            obj["battery_pct"] = battery[i]
        if alarms[i] is not None:
            obj["alarms"] = alarms[i]
        obj["seq"] = seqs[i]
        return obj

    n, i, out = len(rows), 0, 0
    while i < n:
        g = groups[i]
        if g < 0:
            obj = fix(i)
            payload = orjson.dumps(obj)
            if bads[i] >= 0:
                payload = _malformed(MALFORMED[bads[i]], obj, payload)
            yield Message(out, topics[dev[i]], payload)
            i += 1
        else:
            j = i
            while j < n and groups[j] == g:
                j += 1
            yield Message(out, topics[dev[i]], orjson.dumps([fix(k) for k in range(i, j)]))
            i = j
        out += 1
