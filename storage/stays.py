"""Reading the fixes that stay points and the home cluster are computed from."""

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import numpy.typing as npt

from storage.database import Connection

# Evening, night and early morning in local time: overnight stays (22:00-06:00) with the
# arrival before and the departure after them. Daytime fixes cannot change an overnight stay.
_NIGHT_FIXES = """
    SELECT device_id, extract(epoch FROM ts), lat, lon
    FROM positions
    WHERE device_id = ANY(%(devices)s)
      AND ts >= %(since)s AND ts < %(until)s
      AND source = 'gps' AND coalesce(accuracy_m, 0) <= 500
      AND (extract(hour FROM ts AT TIME ZONE %(tz)s) >= 19 OR extract(hour FROM ts AT TIME ZONE %(tz)s) < 9)
    ORDER BY device_id, ts
"""

# (epoch seconds, lat, lon), as alerts.relocation.Track.
Track = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]


def night_fixes(
    conn: Connection, devices: Sequence[str], since: datetime, until: datetime, timezone: str
) -> dict[str, Track]:
    """Per device: (epoch seconds, lat, lon) of its precise evening-to-morning fixes, in time order."""
    rows = conn.execute(
        _NIGHT_FIXES, {"devices": list(devices), "since": since, "until": until, "tz": timezone}
    ).fetchall()
    grouped: dict[str, list[tuple[float, float, float]]] = {}
    for device_id, epoch, lat, lon in rows:
        grouped.setdefault(device_id, []).append((float(epoch), lat, lon))
    out: dict[str, Track] = {}
    for device_id, items in grouped.items():
        arr = np.asarray(items, dtype=np.float64)
        out[device_id] = (arr[:, 0], arr[:, 1], arr[:, 2])
    return out
