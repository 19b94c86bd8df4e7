"""Active hours of a fence: a daily local-time window such as "08:00-20:00" or "22:00-06:00"."""

import re
from dataclasses import dataclass
from datetime import datetime, time
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from geofence.errors import FenceDefinitionError

DEFAULT_TIMEZONE: Final = "Asia/Shanghai"  # the lenders we serve run on China Standard Time
# "HH:MM-HH:MM", optionally followed by an IANA zone name ("22:00-06:00 Asia/Shanghai"): the fences
# table has one text column for active hours, so a non-default zone travels inside it.
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})(?:\s+(\S+))?\s*$")


def _clock(hours: str, minutes: str, text: str) -> time:
    h, m = int(hours), int(minutes)
    if h == 24 and m == 0:
        return time(0, 0)  # "24:00" closes a window at midnight
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise FenceDefinitionError("active_hours", f"no such time of day in {text!r}")
    return time(h, m)


@dataclass(frozen=True, slots=True)
class ActiveHours:
    """A half-open local window [start, end); end before start means it runs overnight."""

    start: time
    end: time
    timezone: str = DEFAULT_TIMEZONE

    @classmethod
    def parse(cls, text: str, timezone: str = DEFAULT_TIMEZONE) -> "ActiveHours":
        """Parse "HH:MM-HH:MM[ Zone/Name]" (overnight ranges such as "22:00-06:00" allowed)."""
        match = _WINDOW.match(text)
        if match is None:
            raise FenceDefinitionError("active_hours", f"expected 'HH:MM-HH:MM', got {text!r}")
        timezone = match[5] or timezone
        start = _clock(match[1], match[2], text)
        end = _clock(match[3], match[4], text)
        if start == end:
            raise FenceDefinitionError("active_hours", f"empty window {text!r} (omit it for always)")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise FenceDefinitionError("timezone", f"unknown time zone {timezone!r}") from exc
        return cls(start=start, end=end, timezone=timezone)

    def contains(self, ts: datetime) -> bool:
        """True when the instant ts (timezone-aware) falls inside the window, in local time."""
        if ts.tzinfo is None:
            raise ValueError("ts: must be timezone-aware")
        local = ts.astimezone(ZoneInfo(self.timezone)).time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def __str__(self) -> str:
        window = f"{self.start:%H:%M}-{self.end:%H:%M}"
        return window if self.timezone == DEFAULT_TIMEZONE else f"{window} {self.timezone}"
