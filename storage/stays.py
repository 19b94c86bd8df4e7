"""Reading the fixes that stay points and the home cluster are computed from."""

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import numpy.typing as npt

from domain.position import COARSE_ACCURACY_M
from storage.database import Connection

# The night hours of alerts.relocation.at_night, in local time; precise as Position.coarse says
# (a GPS fix no coarser than COARSE_ACCURACY_M).
_NIGHT_FIXES = """
    SELECT device_id, extract(epoch FROM ts), lat, lon
    FROM positions
    WHERE device_id = ANY(%(devices)s)
      AND ts >= %(since)s AND ts < %(until)s
      AND source = 'gps' AND coalesce(accuracy_m, 0) <= %(coarse_m)s
      AND (extract(hour FROM ts AT TIME ZONE %(tz)s) >= %(night_from)s
           OR extract(hour FROM ts AT TIME ZONE %(tz)s) < %(night_until)s)
    ORDER BY device_id, ts
"""

# (epoch seconds, lat, lon), as alerts.relocation.Track.
Track = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]


def night_fixes(
    conn: Connection,
    devices: Sequence[str],
    since: datetime,
    until: datetime,
    timezone: str,
    hours: tuple[int, int],
) -> dict[str, Track]:
    """Per device: (epoch seconds, lat, lon) of its precise fixes at local `hours` (from, until), in time order."""
    params = {"devices": list(devices), "since": since, "until": until, "tz": timezone, "coarse_m": COARSE_ACCURACY_M}
    rows = conn.execute(_NIGHT_FIXES, params | {"night_from": hours[0], "night_until": hours[1]}).fetchall()
    grouped: dict[str, list[tuple[float, float, float]]] = {}
    for device_id, epoch, lat, lon in rows:
        grouped.setdefault(device_id, []).append((float(epoch), lat, lon))
    out: dict[str, Track] = {}
    for device_id, items in grouped.items():
        arr = np.asarray(items, dtype=np.float64)
        out[device_id] = (arr[:, 0], arr[:, 1], arr[:, 2])
    return out
