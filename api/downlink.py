"""The commands a tracker takes (locate now, chase mode on/off), as the JSON it receives on
trackers/{device_id}/command; handing them to the broker is the Downlink port's (api/ports.py)."""

from typing import Any

# Chase mode asks the unit to report every 10 s while a recovery is under way.
CHASE_INTERVAL_S = 10


def command_payload(command: str, *, ref: str, actor: str) -> dict[str, Any]:
    """The JSON a tracker receives for one of: locate, chase_on, chase_off."""
    payload: dict[str, Any] = {"ref": ref, "issued_by": actor}
    if command == "locate":
        return payload | {"cmd": "locate"}
    if command == "chase_on":
        return payload | {"cmd": "set_interval", "interval_s": CHASE_INTERVAL_S, "mode": "chase"}
    if command == "chase_off":
        return payload | {"cmd": "set_interval", "interval_s": None, "mode": "normal"}
    raise ValueError(f"command: unknown {command!r}")
