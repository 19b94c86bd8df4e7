"""Per-device detector state in the device_state table, so a restart or rebalance resumes it."""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import orjson

from alerts.motion import DeviceState
from domain.ids import DeviceId, FenceId
from geofence.membership import FenceState, Phase
from geofence.signals import Fix
from geofence.tracker import DeviceFences
from storage.database import Connection

_TIMES = ("last_ts", "fix_ts", "anchor_ts", "tow_since")

# A batch touches thousands of devices: COPY them into a staging table, then one upsert.
_STAGING = """
    CREATE TEMP TABLE IF NOT EXISTS device_state_staging
        (device_id text, last_ts timestamptz, state jsonb) ON COMMIT DELETE ROWS
"""
_COPY = "COPY device_state_staging (device_id, last_ts, state) FROM STDIN"
_UPSERT = """
    INSERT INTO device_state (device_id, last_ts, state, updated_at)
    SELECT device_id, last_ts, state, now() FROM device_state_staging
    ON CONFLICT (device_id) DO UPDATE
        SET last_ts = EXCLUDED.last_ts, state = EXCLUDED.state, updated_at = now()
"""


def to_json(state: DeviceState) -> dict[str, Any]:
    """A compact JSON object (a few hundred bytes)."""
    out: dict[str, Any] = {}
    for name in DeviceState.__slots__:
        value = getattr(state, name)
        if value is None or value == () or value is False:
            continue
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def from_json(data: Mapping[str, Any]) -> DeviceState:
    """The state back from its JSON form."""
    fields: dict[str, Any] = {}
    for name, value in data.items():
        if name not in DeviceState.__slots__:
            continue  # a field from another version: the detectors rebuild it
        if name in _TIMES:
            value = datetime.fromisoformat(value)
        elif name == "alarms":
            value = tuple(value)
        fields[name] = value
    return DeviceState(**fields)


def fences_to_json(fenced: DeviceFences) -> dict[str, Any]:
    """A device's fence memberships: [fence id, phase, entered fix, dwell signalled, first out, outs]."""
    return {
        "fences_ts": fenced.last_ts.isoformat() if fenced.last_ts else None,
        "fences": [
            [int(fid), s.phase.value, _fix(s.entered), s.dwell_signalled, _fix(s.first_out), s.out_count]
            for fid, s in fenced.inside
        ],
    }


def fences_from_json(data: Mapping[str, Any]) -> DeviceFences:
    """A device's fence memberships back from their JSON form (none when never stored)."""
    inside = tuple(
        (FenceId(fid), FenceState(Phase(phase), _unfix(entered), dwell, _unfix(first_out) if first_out else None, outs))
        for fid, phase, entered, dwell, first_out, outs in data.get("fences", ())
    )
    last = data.get("fences_ts")
    return DeviceFences(inside, datetime.fromisoformat(last) if last else None)


def _fix(fix: Fix | None) -> list[Any] | None:
    return None if fix is None else [fix.ts.isoformat(), fix.lat, fix.lon, fix.accuracy_m, fix.coarse]


def _unfix(data: list[Any]) -> Fix:
    return Fix(datetime.fromisoformat(data[0]), data[1], data[2], data[3], data[4])


Saved = tuple[DeviceId, DeviceState, DeviceFences | None]


def save(conn: Connection, states: Iterable[Saved]) -> None:
    """Upsert these devices' states (call inside the batch transaction).

    The COPY text is written here in one piece (orjson for the JSON): this runs for every device of
    every batch, and row-by-row adaptation cost as much as the detectors' own judging of a fix."""
    lines = [
        "\t".join(
            (
                _copy_text(device_id),
                st.last_ts.isoformat() if st.last_ts else "\\N",
                _copy_text(orjson.dumps(to_json(st) | (fences_to_json(fenced) if fenced else {})).decode()),
            )
        )
        for device_id, st, fenced in states
    ]
    if not lines:
        return
    with conn.cursor() as cur:
        cur.execute(_STAGING)
        with cur.copy(_COPY) as copy:
            copy.write("\n".join(lines) + "\n")
        cur.execute(_UPSERT)


def _copy_text(value: str) -> str:
    """A value escaped for COPY's text format."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def load_all(conn: Connection) -> tuple[dict[DeviceId, DeviceState], dict[DeviceId, DeviceFences]]:
    """Every stored state: motion and fence memberships."""
    rows = conn.execute("SELECT device_id, state FROM device_state").fetchall()
    motion = {DeviceId(r[0]): from_json(r[1]) for r in rows}
    fenced = {DeviceId(r[0]): fences_from_json(r[1]) for r in rows if r[1].get("fences")}
    return motion, fenced
