"""The sweeps' clock of a partitioned worker: no owned partition is swept ahead of its own data.

On the event-time clock each partition's time is the latest punctuation (or fix) committed from
it, minus the allowed lateness; a worker's sweep time is the earliest of its partitions', so a
partition whose backlog is still being read is never judged silent for data it has not read
yet. Until every owned partition has a time (a freshly taken one that never committed), there
is no sweep. On wall time it is now, once every owned partition has caught up with its stream.
"""

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from alerts.clock import Watermark


class PartitionClock(Watermark):
    """Reads the committed time of each partition this worker holds (the worker updates them)."""

    def __init__(self, lateness: timedelta, committed: Callable[[], Mapping[int, datetime | None]]) -> None:
        super().__init__(lateness)
        self._committed = committed

    def advance(self, ts: datetime) -> None:
        """The detectors report a batch's latest fix: the partitions' own times already include it."""
        return None

    def __call__(self) -> datetime | None:
        times = self._committed()
        if not times or any(t is None for t in times.values()):
            return None
        return min(t for t in times.values() if t is not None) - self.lateness


class WallClock(Watermark):
    """Wall time, for sweeps in production (each worker sweeps the vehicles it owns), but only
    while every owned partition has caught up: after a restart or a handover the backlog is read
    first, or every car in it would look silent since its last committed fix."""

    def __init__(self, caught_up: Callable[[], bool] = lambda: True) -> None:
        super().__init__(timedelta(0))
        self._caught_up = caught_up

    def advance(self, ts: datetime) -> None:
        return None

    def __call__(self) -> datetime | None:
        return datetime.now(UTC) if self._caught_up() else None
