"""Per-key request rate limits (GCRA: one timestamp per key), with the wait before the next try.

The generic cell rate algorithm admits `limit` requests in a burst and then one every
period / limit, keeping only each key's theoretical arrival time: no per-request log. Limits are
per server process: with N workers a caller may get up to N times the rate, which still bounds
a scraper or a token guesser; a cluster-wide limit would need a shared store. The clock is an
argument, so the arithmetic is tested without waiting.
"""

import math
import threading

# Past this many keys, those whose window has passed are forgotten (a guesser rotating addresses
# must not grow the table without bound).
_PRUNE_AT = 10_000


class RateLimiter:
    """At most `limit` events per `period_s` for each key."""

    def __init__(self, limit: int, period_s: float = 60.0) -> None:
        self.limit = limit
        self.period_s = period_s
        self.interval_s = period_s / limit
        self._arrival: dict[str, float] = {}
        self._lock = threading.Lock()  # sync endpoints run in worker threads

    def retry_after(self, key: str, now: float) -> float | None:
        """Seconds until one more event would be admitted, or None when it would be now."""
        with self._lock:
            return self._wait(key, now)

    def take(self, key: str, now: float) -> float | None:
        """Count one event; returns None when admitted, else the seconds to wait (nothing counted)."""
        with self._lock:
            wait = self._wait(key, now)
            if wait is not None:
                return wait
            if len(self._arrival) >= _PRUNE_AT:
                self._arrival = {k: t for k, t in self._arrival.items() if t > now}
            self._arrival[key] = max(self._arrival.get(key, now), now) + self.interval_s
            return None

    def _wait(self, key: str, now: float) -> float | None:
        after = max(self._arrival.get(key, now), now) + self.interval_s
        excess = after - now - self.period_s
        return excess if excess > 1e-9 else None


def retry_header(seconds: float) -> dict[str, str]:
    """A Retry-After header in whole seconds, rounded up (RFC 9110 §10.2.3)."""
    return {"Retry-After": str(max(1, math.ceil(seconds)))}
