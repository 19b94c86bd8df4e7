"""One simulation run: fleet, every member's life and fixes, labels, and the message stream.

Pure and deterministic: the same configuration gives byte-identical messages. Simulated time runs
from `start` for `days`; how fast it is published is the publisher's business.
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from simulators.fleet import Fleet, build_fleet, member_rng
from simulators.labels import Label
from simulators.messy import Messiness, disorder
from simulators.payloads import Device, Message, Schedule, encode
from simulators.scenarios import SCENARIOS, Context, ScenarioError, ordinary, resolve
from simulators.track import IntArray, Track
from simulators.trackers import Fixes

log = logging.getLogger(__name__)

VEHICLES_PER_INSTANCE = 200  # one car per scenario per this many vehicles (at least one)


@dataclass(frozen=True, slots=True)
class SimConfig:
    vehicles: int
    days: int
    seed: int
    start: datetime  # UTC; fix times run from here for `days`
    scenarios: str = "all"  # comma list, "all" or "none"
    wireless_share: float = 0.3
    messy: Messiness | None = None
    id_prefix: str = "sim"

    @property
    def start_s(self) -> int:
        return int(self.start.timestamp())


@dataclass(frozen=True, slots=True)
class Simulation:
    config: SimConfig
    fleet: Fleet
    devices: tuple[Device, ...]
    fixes: Fixes  # clean: every fix the trackers made, sorted by device then time
    seq: IntArray  # per-device sequence number of each fix
    labels: tuple[Label, ...]
    tracks: tuple[Track, ...]  # ground truth, one per member
    skipped: tuple[str, ...] = field(default=())  # scenarios not laid (too short a period, no place)
    schedule: Schedule | None = None

    def message_count(self) -> int:
        """How many messages `messages()` yields."""
        return self._schedule().message_count()

    def messages(self) -> Iterator[Message]:
        """The time-ordered (publish order, topic, payload) stream."""
        return encode(self.fixes, self.seq, self.devices, self._schedule())

    def _schedule(self) -> Schedule:
        return self.schedule or Schedule.clean(self.fixes, len(self.devices))


def default_start(days: int, now: datetime) -> datetime:
    """now − days, rounded down to the hour: the whole run lies in the past of wall time."""
    return (now.astimezone(UTC) - timedelta(days=days)).replace(minute=0, second=0, microsecond=0)


def simulate(config: SimConfig) -> Simulation:
    """Lay out the fleet's lives and their scenarios; deterministic in the configuration."""
    chosen, too_short = resolve(config.scenarios, config.days)
    copies = max(1, config.vehicles // VEHICLES_PER_INSTANCE)
    castings = [s.casting for s in chosen for _ in range(copies)]
    fleet = build_fleet(
        vehicles=config.vehicles,
        days=config.days,
        seed=config.seed,
        start=config.start_s,
        castings=castings,
        wireless_share=config.wireless_share,
        id_prefix=config.id_prefix,
    )
    devices: list[Device] = []
    parts: list[Fixes] = []
    labels: list[Label] = []
    tracks: list[Track] = []
    skipped = [s.name for s in too_short]
    in_scenario: list[bool] = []
    for m in fleet.members:
        wired_idx = len(devices)
        devices.append(Device(m.wired.device_id, True, m.epoch_ts))
        wireless_idx = None
        if m.wireless is not None:
            wireless_idx = len(devices)
            devices.append(Device(m.wireless.device_id, False, m.epoch_ts))
        in_scenario += [m.scenario is not None] * len(m.devices)
        ctx = Context(fleet.start, fleet.end, wired_idx, wireless_idx)
        rng = member_rng(config.seed, m.index, 1)
        runner = SCENARIOS[m.scenario].run if m.scenario else ordinary
        try:
            outcome = runner(m, ctx, rng)
        except ScenarioError as exc:
            log.warning("scenario %s not laid on loan %s: %s", m.scenario, m.loan.loan_id, exc)
            skipped.append(m.scenario or "")
            outcome = ordinary(m, ctx, member_rng(config.seed, m.index, 2))
        parts.append(outcome.fixes)
        labels.extend(outcome.labels)
        tracks.append(outcome.track)
    fixes = Fixes.concat(parts).sorted()
    first = np.searchsorted(fixes.device, fixes.device, side="left")
    seq = (np.arange(len(fixes)) - first).astype(np.int64)
    schedule = None
    if config.messy is not None:
        eligible = ~np.asarray(in_scenario, dtype=np.bool_)
        schedule = disorder(fixes, len(devices), eligible, config.messy, np.random.default_rng([config.seed, 7]))
    return Simulation(config, fleet, tuple(devices), fixes, seq, tuple(labels), tuple(tracks), tuple(skipped), schedule)
