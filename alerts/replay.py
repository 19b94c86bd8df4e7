"""History through the judge with no database: positions in, the alerts they give out.

It runs the detectors as the ingestor does on the event-time clock: batches of positions in
the order they arrived, the verdict of each adopted, and after each batch the absence sweep
(and, less often, relocation) at the watermark; at the end, both at `end`. Relocation reads the
night fixes of the positions replayed so far, as the shell reads them from storage.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from alerts import judge, relocation
from alerts.book import AlertBook
from alerts.clock import Watermark, grid
from alerts.judge import Memory, World
from domain.assets import Loan
from domain.ids import Vin
from domain.position import Position


@dataclass(frozen=True, slots=True)
class Pace:
    """How the replay is cut: positions per batch and the event-time clock's steps."""

    batch: int = 500
    lateness: timedelta = timedelta(minutes=15)
    sweep_every: timedelta = timedelta(minutes=15)
    relocation_every: timedelta = timedelta(hours=6)


def replay(
    positions: Sequence[Position],
    world: World,
    loans: Mapping[Vin, Loan],
    *,
    end: datetime,
    pace: Pace = Pace(),
    timezone: str = "Asia/Shanghai",
) -> AlertBook:
    """The alerts these positions (in arrival order) give, swept to `end`."""
    book = AlertBook()
    memory = Memory()
    clock = Watermark(pace.lateness)
    seen: list[Position] = []
    last_sweep: datetime | None = None
    relocated: datetime | None = None  # relocation has judged the grid up to here

    def lookup(vins: object) -> Mapping[Vin, Loan]:
        return loans

    def relocate(at: datetime) -> None:
        chosen = relocation.tracked(world.devices, loans)
        tracks = night_tracks(seen, set(chosen.values()), at - relocation.HOME_WINDOW, at, timezone)
        book.apply(judge.relocate(tracks, world, loans, now=at, timezone=timezone).actions)

    def sweep(now: datetime) -> None:
        verdict = judge.sweep(memory, world, lookup, now)
        book.apply(verdict.actions)
        memory.adopt(verdict)

    for start in range(0, len(positions), pace.batch):
        batch = positions[start : start + pace.batch]
        verdict = judge.judge(memory, batch, world, lookup)
        book.apply(verdict.actions)
        memory.adopt(verdict)
        seen.extend(batch)
        if relocated is None:
            relocated = min(p.ts for p in batch)
        clock.advance(max(p.ts for p in batch))
        now = clock()
        if now is None or (last_sweep is not None and now - last_sweep < pace.sweep_every):
            continue
        sweep(now)
        last_sweep = now
        for at in grid(relocated, now, pace.relocation_every):
            relocate(at)
            relocated = at
    sweep(end)
    relocate(end)
    return book


def night_tracks(
    positions: Sequence[Position], devices: set[str], since: datetime, until: datetime, timezone: str
) -> dict[str, relocation.Track]:
    """Per device, its precise night fixes in [since, until), as storage.stays.night_fixes reads them."""
    zone = ZoneInfo(timezone)
    grouped: dict[str, list[tuple[float, float, float]]] = {}
    for p in positions:
        if p.device_id not in devices or p.coarse or not since <= p.ts < until:
            continue
        if relocation.at_night(p.ts.astimezone(zone).hour):
            grouped.setdefault(p.device_id, []).append((p.ts.timestamp(), p.lat, p.lon))
    out: dict[str, relocation.Track] = {}
    for device_id, items in grouped.items():
        arr = np.asarray(sorted(items), dtype=np.float64)
        out[device_id] = (arr[:, 0], arr[:, 1], arr[:, 2])
    return out
