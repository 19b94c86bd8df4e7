"""The judge: detector state × new fixes (or the passing of time) → new state and alert actions.

Theory of operation. Everything the detectors decide is a pure function of what this module is
handed: the per-device `Memory` (motion state and fence memberships), the batch's positions,
the `World` (registered devices, fences, thresholds) and a loan lookup read at decision time.
`judge` folds a batch in event-time order through motion, pairing and the geofence walk; `sweep`
judges the absence of data (offline, long idle) at a given `now`; `relocate` judges the night
stays the shell read. Each returns a `Verdict`: the new state of the devices it touched and the
actions for the alerts table. Nothing is changed in place, so the shell can persist a verdict
inside a transaction and adopt it only once that has committed (a retried batch is judged again
from the same state), and history replays through here with no database at all.
"""

import dataclasses
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from alerts import absence, engine
from alerts.absence import policy_floor_s
from alerts.actions import Action
from alerts.motion import DeviceState, observe
from alerts.pairing import separation
from alerts.relocation import Tracks, relocations
from alerts.signal import Ended, Signal
from alerts.thresholds import Policy, Thresholds
from domain.assets import Device, Loan
from domain.ids import DeviceId, FenceId, LoanId, Vin
from domain.position import Position
from domain.vocabulary import AlertKind, DeviceKind, FenceKind
from geofence.admin_regions import admin_regions
from geofence.errors import UnknownRegion
from geofence.fence import Fence
from geofence.index import FenceIndex
from geofence.regions import Region, region_of_fences
from geofence.signals import Dwelled, Entered, Exited, FenceSignal
from geofence.tracker import DeviceFences, evaluate_batch, expire_silent

# A bound region's fence id is this plus its adcode (< 10⁶): clear of the fences table's ids, and
# the same in every world built, so a car's membership survives a reload that adds other regions.
REGION_FENCE_BASE = 2_000_000_000

# The loans of these vehicles, as they stand now (days past due read fresh at decision time).
LoanLookup = Callable[[Collection[Vin]], Mapping[Vin, Loan]]


@dataclass(frozen=True, slots=True)
class World:
    """What the judge knows besides the fixes: devices, the fence index and its loan bindings."""

    devices: Mapping[DeviceId, Device]
    index: FenceIndex
    fence_loans: Mapping[DeviceId, frozenset[LoanId]]
    partners: Mapping[Vin, tuple[DeviceId, ...]]
    thresholds: Thresholds  # the lender's default
    by_device: Mapping[DeviceId, Thresholds] = field(default_factory=dict)  # set by the loan's portfolio

    @classmethod
    def build(
        cls,
        devices: Mapping[DeviceId, Device],
        fences: Sequence[Fence],
        loans: Mapping[Vin, Loan],
        policy: Policy,
    ) -> "World":
        """The world of these devices, fences and loans (the province or city a loan's bound_region
        names becomes an allowed_region fence, unless the loan has such a fence of its own), each
        device judged by the thresholds of its loan's portfolio."""
        partners: dict[Vin, list[DeviceId]] = {}
        for device in devices.values():
            if device.vin is not None:
                partners.setdefault(device.vin, []).append(device.device_id)
        fence_loans = {
            d: frozenset({loans[dev.vin].loan_id})
            for d, dev in devices.items()
            if dev.vin is not None and dev.vin in loans
        }
        has_region = {loan for f in fences if f.kind == FenceKind.ALLOWED_REGION for loan in f.loan_ids}
        builtin = _region_fences(loan for loan in loans.values() if loan.loan_id not in has_region)
        return cls(
            devices=devices,
            index=FenceIndex.build([*fences, *builtin]),
            fence_loans=fence_loans,
            partners={vin: tuple(ids) for vin, ids in partners.items()},
            thresholds=policy.default,
            by_device={
                d: policy.of(loans[dev.vin].portfolio)
                for d, dev in devices.items()
                if dev.vin is not None and dev.vin in loans and loans[dev.vin].portfolio in policy.portfolios
            },
        )

    @classmethod
    def empty(cls, policy: Policy | None = None) -> "World":
        """A world with no device and no fence."""
        return cls({}, FenceIndex.build([]), {}, {}, (policy or Policy()).default)

    def thresholds_of(self, device_id: DeviceId) -> Thresholds:
        """The thresholds this device is judged by."""
        return self.by_device.get(device_id, self.thresholds)

    def vin_of(self) -> dict[DeviceId, Vin]:
        """Each paired device's vehicle."""
        return {d: dev.vin for d, dev in self.devices.items() if dev.vin is not None}


def _region_fences(loans: Iterable[Loan]) -> list[Fence]:
    """The real regions named by loans' bound_region, as allowed_region fences bound to them."""
    regions = admin_regions()
    bound: dict[str, set[LoanId]] = {}
    for loan in loans:
        if loan.bound_region is None or not loan.monitored:
            continue
        try:
            adcode = regions.resolve(loan.bound_region)
        except UnknownRegion:
            continue  # refused at import; a value stored before that names no fence
        bound.setdefault(adcode, set()).add(loan.loan_id)
    out = []
    for adcode, loan_ids in sorted(bound.items()):
        fence = regions.region(adcode).as_fence(FenceId(REGION_FENCE_BASE + int(adcode)))
        out.append(dataclasses.replace(fence, is_global=False, loan_ids=frozenset(loan_ids)))
    return out


def held_regions(index: FenceIndex) -> dict[LoanId, Region]:
    """The region each loan is held to: its allowed_region fences (own, or from bound_region)."""
    fences: dict[LoanId, list[Fence]] = {}
    for fence in index.fences:
        if fence.kind == FenceKind.ALLOWED_REGION and not fence.is_global:
            for loan_id in fence.loan_ids:
                fences.setdefault(loan_id, []).append(fence)
    return {loan_id: region_of_fences(_region_id(own), own) for loan_id, own in fences.items()}


def _region_id(fences: Sequence[Fence]) -> str:
    """A bound region's adcode; a fence of the loan's own by its id."""
    ids = [int(f.fence_id) for f in fences]
    return ",".join(str(i - REGION_FENCE_BASE) if i >= REGION_FENCE_BASE else f"fence {i}" for i in ids)


@dataclass(slots=True)
class Memory:
    """The per-device detector state of the vehicles one process judges."""

    motion: dict[DeviceId, DeviceState] = field(default_factory=dict)
    fences: dict[DeviceId, DeviceFences] = field(default_factory=dict)

    def adopt(self, verdict: "Verdict") -> None:
        """Take a verdict's new states as current (once what it decided has been persisted)."""
        self.motion.update(verdict.motion)
        self.fences.update(verdict.fences)


@dataclass(frozen=True, slots=True)
class Verdict:
    """New state of the devices judged, and the alert actions that follow."""

    motion: dict[DeviceId, DeviceState]
    fences: dict[DeviceId, DeviceFences]
    actions: list[Action]
    signals: int

    def touched(self, memory: Memory) -> list[tuple[DeviceId, DeviceState, DeviceFences | None]]:
        """Every device whose state this verdict changed, with its whole state to save."""
        ids = self.motion.keys() | self.fences.keys()
        return [
            (d, self.motion.get(d) or memory.motion.get(d) or DeviceState(), self.fences.get(d) or memory.fences.get(d))
            for d in sorted(ids)
        ]


def judge(memory: Memory, positions: Sequence[Position], world: World, loans: LoanLookup) -> Verdict:
    """A batch of new positions, folded in event-time order."""
    ordered = sorted(positions, key=lambda p: p.ts)
    pending: dict[DeviceId, DeviceState] = {}
    signals: list[Signal | Ended] = []
    for p in ordered:
        th = world.thresholds_of(p.device_id)
        before = pending.get(p.device_id) or memory.motion.get(p.device_id) or DeviceState()
        device = world.devices.get(p.device_id)
        silent_s = (p.ts - before.last_ts).total_seconds() if before.last_ts is not None else 0.0
        heard_after_silence = (
            device is not None
            and silent_s > 0
            and (silent_s >= th.offline_learn_min_s or silent_s > policy_floor_s(device, th))
        )
        # A device the world does not know (no vehicle: never alerted) is judged as a wired unit.
        kind = device.kind if device is not None else DeviceKind.WIRED
        after, found = observe(before, p, th, kind=kind)
        if heard_after_silence:
            assert device is not None and before.last_ts is not None
            ended, offline_signals = _silence_ended(world, memory, pending, device, before, p)
            signals += offline_signals
            after = dataclasses.replace(
                after,
                silences=absence.learn(before.silences, before.last_ts, silent_s, th),
                quiet_from=ended[0] if ended else after.quiet_from,
                quiet_until=ended[1] if ended else after.quiet_until,
            )
        pending[p.device_id] = after
        signals += found
        if after.fix_ts == p.ts:
            signals += _separation(world, memory, p, pending)
    fenced = evaluate_batch(world.index, ordered, memory.fences, world.fence_loans)
    signals += [s for s in (_fence_signal(world.index, f) for f in fenced.signals) if s is not None]
    actions = _decide(world, memory, signals, fenced.states, loans)
    return Verdict(pending, dict(fenced.states), actions, len(signals))


def sweep(memory: Memory, world: World, loans: LoanLookup, now: datetime) -> Verdict:
    """Offline and long-idle at `now` (wall time, or the event-time watermark), and the fence exits
    of devices silent since they began to leave.

    Each condition is signalled once per episode: the flags are kept in the device state, so a
    collector's resolution is not undone by the next sweep.
    """
    watches = [
        absence.Watch(dev, memory.motion[d], world.thresholds_of(d))
        for d, dev in world.devices.items()
        if d in memory.motion
    ]
    signals: list[Signal | Ended] = [*absence.offline(watches, now, world.thresholds)]
    for d, st in memory.motion.items():
        if d in world.devices and world.devices[d].kind == DeviceKind.WIRED:
            signals += absence.long_idle({d: st}, now, world.thresholds_of(d))
    flagged: dict[DeviceId, DeviceState] = {}
    for s in signals:
        state = flagged.get(s.device_id) or memory.motion[s.device_id]
        if s.kind == AlertKind.LONG_IDLE:
            flagged[s.device_id] = dataclasses.replace(state, idle_open=True)
        elif s.kind == AlertKind.OFFLINE:
            flagged[s.device_id] = dataclasses.replace(state, offline_open=True)
    # A car that left a fence and fell silent has left once the exit time has passed.
    fenced = expire_silent(world.index, memory.fences, now)
    signals += [s for s in (_fence_signal(world.index, f) for f in fenced.signals) if s is not None]
    actions = _decide(world, memory, signals, fenced.states, loans) if signals else []
    return Verdict(flagged, dict(fenced.states), actions, len(signals))


def relocate(tracks: Tracks, world: World, loans: Mapping[Vin, Loan], *, now: datetime, timezone: str) -> Verdict:
    """Relocation over the night fixes the shell read for `relocation.tracked(...)` devices."""
    held_to = held_regions(world.index)
    signals = relocations(tracks, now=now, devices=world.devices, loans=loans, timezone=timezone, held_to=held_to)
    actions = _decide(world, Memory(), signals, {}, lambda vins: loans) if signals else []
    return Verdict({}, {}, actions, len(signals))


def _silence_ended(
    world: World,
    memory: Memory,
    pending: Mapping[DeviceId, DeviceState],
    device: Device,
    before: DeviceState,
    p: Position,
) -> tuple[tuple[datetime, datetime] | None, list[Signal | Ended]]:
    """A report after a silence: if it was long enough to be offline, the offline alert (dated at
    the crossing, unless a sweep already gave it) and its clearing; and the silence's span."""
    assert before.last_ts is not None
    th = world.thresholds_of(device.device_id)
    threshold_s = absence.offline_after_s(device, th, before)
    if (p.ts - before.last_ts).total_seconds() <= threshold_s:
        return None, []
    signals: list[Signal | Ended] = []
    if not before.offline_open:  # else a sweep gave it while the silence went on
        partners = [
            absence.Watch(
                world.devices[d], pending.get(d) or memory.motion.get(d) or DeviceState(), world.thresholds_of(d)
            )
            for d in (world.partners.get(device.vin, ()) if device.vin is not None else ())
            if d != device.device_id
        ]
        signals.append(absence.went_offline(absence.Watch(device, before), partners, th))
    signals.append(Ended(AlertKind.OFFLINE, p.device_id, p.ts, p.device_id, "device back online"))
    began = before.last_ts + timedelta(seconds=threshold_s)
    return (began, p.ts), signals


def _separation(world: World, memory: Memory, p: Position, pending: Mapping[DeviceId, DeviceState]) -> list[Signal]:
    device = world.devices.get(p.device_id)
    if device is None or device.vin is None:
        return []
    out = []
    for other in world.partners.get(device.vin, ()):
        partner_device = world.devices[other]
        if other == p.device_id or partner_device.kind == device.kind:
            continue
        partner = pending.get(other) or memory.motion.get(other)
        if partner is not None:
            th = world.thresholds_of(p.device_id)
            found = separation(p, other, partner, th, partner_kind=partner_device.kind)
            if found is not None:
                out.append(found)
    return out


def _fence_signal(index: FenceIndex, s: FenceSignal) -> Signal | Ended | None:
    fence = index.fences[index.row_of[s.fence_id]]
    evidence: dict[str, Any] = {
        "fence": {
            "id": int(s.fence_id),
            "name": fence.name,
            "kind": fence.kind.value,
            "subtype": fence.subtype.value if fence.subtype else None,
            "radius_m": fence.radius_m,
        },
        "fixes": [{"ts": f.ts.isoformat(), "lat": f.lat, "lon": f.lon, "accuracy_m": f.accuracy_m} for f in s.evidence],
        "thresholds": dataclasses.asdict(s.thresholds),
    }
    subject = str(int(s.fence_id))
    if fence.kind == FenceKind.RISK_ZONE:
        if isinstance(s, Entered):
            return Signal(AlertKind.RISK_ZONE_ENTER, s.device_id, s.at, subject, evidence)
        if isinstance(s, Dwelled):
            evidence["inside_min"] = round(s.inside_s / 60, 1)
            return Signal(AlertKind.RISK_ZONE_DWELL, s.device_id, s.at, subject, evidence)
    elif fence.kind == FenceKind.ALLOWED_REGION:
        if isinstance(s, Exited):
            return Signal(AlertKind.REGION_EXIT, s.device_id, s.at, subject, evidence)
        if isinstance(s, Entered):
            return Ended(AlertKind.REGION_EXIT, s.device_id, s.at, subject, "back inside the bound region")
    return None


def _decide(
    world: World,
    memory: Memory,
    signals: Sequence[Signal | Ended],
    fence_states: Mapping[DeviceId, DeviceFences],
    loans: LoanLookup,
) -> list[Action]:
    if not signals:
        return []
    vin_of = world.vin_of()
    found = loans({vin_of[s.device_id] for s in signals if s.device_id in vin_of})
    index = world.index

    def in_risk_zone(device_id: DeviceId) -> bool:
        state = fence_states.get(device_id) or memory.fences.get(device_id)
        if state is None:
            return False
        rows = (index.row_of.get(f) for f, _ in state.inside)
        return any(r is not None and index.fences[r].kind == FenceKind.RISK_ZONE for r in rows)

    return engine.decide(
        signals, vin_of=vin_of, loans=found, in_risk_zone=in_risk_zone, thresholds_of=world.thresholds_of
    )
