"""The event-time clock of simulation and replay: the latest fix committed, minus the allowed lateness.

Sweeps judge the absence of data "as of now"; on this clock now moves with the data, so a
simulated week gives the alerts a real one would. Production sweeps use wall time instead.
"""

from datetime import datetime, timedelta


class Watermark:
    """Now, as far as the data has shown: the latest fix seen minus the allowed lateness."""

    def __init__(self, lateness: timedelta) -> None:
        self.lateness = lateness
        self.latest: datetime | None = None

    def advance(self, ts: datetime) -> None:
        """A fix at `ts` was committed."""
        if self.latest is None or ts > self.latest:
            self.latest = ts

    def __call__(self) -> datetime | None:
        """The clock's reading; None until a fix has been seen."""
        return None if self.latest is None else self.latest - self.lateness


def grid(after: datetime, until: datetime, every: timedelta) -> list[datetime]:
    """The instants in (after, until] that are whole multiples of `every` since the epoch.

    Jobs run on this grid judge the same instants however the clock advanced (a minute at a time
    or a day at once), so what they find does not depend on the size of the batches.
    """
    step = every.total_seconds()
    first = (after.timestamp() // step + 1) * step
    out = []
    t = first
    while t <= until.timestamp():
        out.append(datetime.fromtimestamp(t, after.tzinfo))
        t += step
    return out
