"""Per-device detector state in the device_state table, so a restart or rebalance resumes it.

The state arrives already encoded (alerts.state_codec): this module only moves text in and out.
"""

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from domain.ids import DeviceId
from storage.database import Connection

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

# The judge's offline verdict as the state stores it: alerts.motion.DeviceState.offline_open, set
# by the sweep once the silence passed the device's own threshold (its kind, schedule, learned
# cadence and its loan portfolio's policy) and cleared by its next report. It is kept for every
# registered device, with or without a loan, and a collector resolving the alert does not clear it.
OFFLINE_KEY = "offline_open"
JUDGED_OFFLINE_SQL = f"coalesce((ds.state ->> '{OFFLINE_KEY}')::boolean, false)"  # over device_state ds

# (device, its latest report, the state's JSON text)
Saved = tuple[DeviceId, datetime | None, str]


def save(conn: Connection, states: Iterable[Saved]) -> None:
    """Upsert these devices' states (call inside the batch transaction).

    The COPY text is written here in one piece: this runs for every device of every batch, and
    row-by-row adaptation cost as much as the detectors' own judging of a fix."""
    lines = [
        "\t".join((_copy_text(device_id), last_ts.isoformat() if last_ts else "\\N", _copy_text(text)))
        for device_id, last_ts, text in states
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


def load_all(conn: Connection) -> list[tuple[DeviceId, dict[str, Any]]]:
    """Every stored state, as its JSON."""
    return [(DeviceId(r[0]), r[1]) for r in conn.execute("SELECT device_id, state FROM device_state").fetchall()]


def judged_offline(conn: Connection, device_ids: Collection[str]) -> set[DeviceId]:
    """Those of these devices the detectors judge offline now."""
    rows = conn.execute(
        f"SELECT ds.device_id FROM device_state ds WHERE ds.device_id = ANY(%s) AND {JUDGED_OFFLINE_SQL}",
        (list(device_ids),),
    ).fetchall()
    return {DeviceId(r[0]) for r in rows}
