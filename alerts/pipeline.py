"""The detector pipeline: the ingestor's sink, run inside each batch's transaction.

Theory of operation. The ingestor commits a batch's positions and, in the same transaction,
hands the new ones here. The pipeline folds them, in event-time order, through the pure
detectors (motion, pairing, geofence), turns the signals into alert actions with the loans read
fresh from the database, and writes the alerts and the touched devices' state. The new
in-memory state is swapped in only after the commit (the returned callable), so a batch retried
after a database failure is judged again from the same state: nothing is lost or doubled.
"""

import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from alerts import absence, apply, engine
from alerts.motion import DeviceState, observe
from alerts.pairing import separation
from alerts.relocation import relocations
from alerts.signal import Signal
from alerts.thresholds import Thresholds
from domain.assets import Device, Loan
from domain.ids import DeviceId, FenceId, LoanId, Vin
from domain.position import Position
from domain.vocabulary import AlertKind, DeviceKind, FenceKind
from geofence.fence import Fence
from geofence.index import FenceIndex
from geofence.regions import builtin_regions
from geofence.signals import Dwelled, Entered, Exited, FenceSignal
from geofence.tracker import DeviceFences, evaluate_batch
from storage import detector_state, fences, registry
from storage.database import Connection, connect

log = logging.getLogger(__name__)

REGION_FENCE_BASE = 2_000_000_000  # ids of the built-in region fences, clear of the fences table's


class DetectorPipeline:
    """Holds the per-device state of one ingest process; implements ingest.pipeline.PositionSink."""

    def __init__(
        self,
        *,
        database_url: str,
        thresholds: Thresholds | None = None,
        reload_s: float = 30.0,
        clock: str = "wall",
        lateness_s: float = 300.0,
        sweep_every_s: float = 300.0,
        relocation_every_s: float = 6 * 3600.0,
        timezone: str = "Asia/Shanghai",
    ) -> None:
        self._relocation_every = timedelta(seconds=relocation_every_s)
        self._last_relocation: datetime | None = None
        self._timezone = timezone
        self._database_url = database_url
        self._clock = clock
        self._lateness = timedelta(seconds=lateness_s)
        self._sweep_every = timedelta(seconds=sweep_every_s)
        self._last_sweep: datetime | None = None
        self.thresholds = thresholds or Thresholds()
        self.states: dict[DeviceId, DeviceState] = {}
        self.fence_states: dict[DeviceId, DeviceFences] = {}
        self.devices: dict[DeviceId, Device] = {}
        self.partners: dict[Vin, list[DeviceId]] = {}
        self.index = FenceIndex.build([])
        self.fence_loans: dict[DeviceId, frozenset[LoanId]] = {}
        self.watermark: datetime | None = None
        self._reload_s = reload_s
        self._loaded_at = float("-inf")
        self._states_loaded = False

    # loading

    def refresh(self, conn: Connection, *, force: bool = False) -> None:
        """Reload devices, fences and loan bindings (periodically; fences change rarely)."""
        if not force and time.monotonic() - self._loaded_at < self._reload_s:
            return
        self.devices = registry.all_devices(conn)
        self.partners = {}
        for device in self.devices.values():
            if device.vin is not None:
                self.partners.setdefault(device.vin, []).append(device.device_id)
        loans = registry.loans_by_vin(conn, list(self.partners))
        loan_of_device = {
            d: loans[dev.vin].loan_id for d, dev in self.devices.items() if dev.vin is not None and dev.vin in loans
        }
        self.fence_loans = {d: frozenset({loan}) for d, loan in loan_of_device.items()}
        stored = fences.load_active_fences(conn)
        has_region = {loan for f in stored if f.kind == FenceKind.ALLOWED_REGION for loan in f.loan_ids}
        builtin = self._region_fences(loan for loan in loans.values() if loan.loan_id not in has_region)
        self.index = FenceIndex.build([*stored, *builtin])
        if not self._states_loaded:  # after a restart or rebalance: resume where the last owner stopped
            self.states, self.fence_states = detector_state.load_all(conn)
            self._states_loaded = True
        self._loaded_at = time.monotonic()

    @staticmethod
    def _region_fences(loans: Iterable[Loan]) -> list[Fence]:
        """Built-in regions named by loans' bound_region, as allowed_region fences bound to them.

        Only for loans with no allowed_region fence of their own in the fences table."""
        regions = builtin_regions()
        bound: dict[str, set[LoanId]] = {}
        for loan in loans:
            if loan.bound_region is not None and loan.bound_region in regions and loan.monitored:
                bound.setdefault(loan.bound_region, set()).add(loan.loan_id)
        out = []
        for n, (region_id, loan_ids) in enumerate(sorted(bound.items())):
            fence = regions[region_id].as_fence(FenceId(REGION_FENCE_BASE + n))
            out.append(dataclasses.replace(fence, is_global=False, loan_ids=frozenset(loan_ids)))
        return out

    # the sink

    def evaluate(self, conn: Connection, positions: Sequence[Position]) -> Callable[[], None]:
        """Judge a committed-to-be batch inside its transaction; returns the after-commit step."""
        self.refresh(conn)
        ordered = sorted(positions, key=lambda p: p.ts)
        pending: dict[DeviceId, DeviceState] = {}
        signals: list[Signal] = []
        th = self.thresholds
        for p in ordered:
            before = pending.get(p.device_id)
            if before is None:  # the device's first fix in this batch: was it silent long enough?
                before = self.states.get(p.device_id) or DeviceState()
                signals += self._back_online(before, p)
            device = self.devices.get(p.device_id)
            dense = device is None or device.kind == DeviceKind.WIRED
            after, found = observe(before, p, th, dense=dense)
            pending[p.device_id] = after
            signals += found
            if after.fix_ts == p.ts:
                signals += self._separation(p, pending)
        fenced = evaluate_batch(self.index, ordered, self.fence_states, self.fence_loans)
        signals += [s for s in map(self._fence_signal, fenced.signals) if s is not None]
        if signals:
            self._decide(conn, signals, fenced.states)
        detector_state.save(
            conn,
            [(d, st, fenced.states.get(d) or self.fence_states.get(d)) for d, st in pending.items()],
        )
        latest = ordered[-1].ts if ordered else None

        def commit() -> None:
            self.states.update(pending)
            self.fence_states.update(fenced.states)
            if latest is not None and (self.watermark is None or latest > self.watermark):
                self.watermark = latest

        return commit

    def _back_online(self, before: DeviceState, p: Position) -> list[Signal]:
        """A report after a silence long enough to have been offline clears that alert."""
        device = self.devices.get(p.device_id)
        if device is None or before.last_ts is None or p.ts <= before.last_ts:
            return []
        if (p.ts - before.last_ts).total_seconds() <= absence.offline_after_s(device, self.thresholds):
            return []
        return [Signal(AlertKind.OFFLINE, p.device_id, p.ts, p.device_id, {}, clears=True, reason="device back online")]

    def _separation(self, p: Position, pending: dict[DeviceId, DeviceState]) -> list[Signal]:
        device = self.devices.get(p.device_id)
        if device is None or device.vin is None:
            return []
        out = []
        for other in self.partners.get(device.vin, ()):
            partner_device = self.devices[other]
            if other == p.device_id or partner_device.kind == device.kind:
                continue
            partner = pending.get(other) or self.states.get(other)
            if partner is not None:
                dense = partner_device.kind == DeviceKind.WIRED
                found = separation(p, other, partner, self.thresholds, partner_dense=dense)
                if found is not None:
                    out.append(found)
        return out

    def _fence_signal(self, s: FenceSignal) -> Signal | None:
        fence = self.index.fences[self.index.row_of[s.fence_id]]
        evidence: dict[str, Any] = {
            "fence": {
                "id": int(s.fence_id),
                "name": fence.name,
                "kind": fence.kind.value,
                "subtype": fence.subtype.value if fence.subtype else None,
                "radius_m": fence.radius_m,
            },
            "fixes": [
                {"ts": f.ts.isoformat(), "lat": f.lat, "lon": f.lon, "accuracy_m": f.accuracy_m} for f in s.evidence
            ],
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
                return Signal(
                    AlertKind.REGION_EXIT,
                    s.device_id,
                    s.at,
                    subject,
                    evidence,
                    clears=True,
                    reason="back inside the bound region",
                )
        return None

    def _decide(self, conn: Connection, signals: list[Signal], fence_states: dict[DeviceId, DeviceFences]) -> None:
        vin_of = {d: dev.vin for d, dev in self.devices.items() if dev.vin is not None}
        vins = {vin_of[s.device_id] for s in signals if s.device_id in vin_of}
        loans = registry.loans_by_vin(conn, vins)  # days past due read fresh, at decision time

        def in_risk_zone(device_id: DeviceId) -> bool:
            state = fence_states.get(device_id) or self.fence_states.get(device_id)
            if state is None:
                return False
            rows = (self.index.row_of.get(f) for f, _ in state.inside)
            return any(r is not None and self.index.fences[r].kind == FenceKind.RISK_ZONE for r in rows)

        actions = engine.decide(signals, vin_of=vin_of, loans=loans, in_risk_zone=in_risk_zone)
        apply.apply(conn, actions)

    # sweeps (absence of data), on the clock given

    def now(self) -> datetime | None:
        """The sweeps' clock: wall time, or the event-time watermark minus the allowed lateness."""
        if self._clock == "wall":
            return datetime.now(UTC)
        return self.watermark - self._lateness if self.watermark is not None else None

    def tick(self) -> None:
        """Called by the ingest loop between batches: sweep when the event-time clock has moved on.

        Only on the watermark clock (simulation, replay); on wall time `lienwatch scheduler` sweeps.
        """
        if self._clock == "wall":
            return
        now = self.now()
        if now is None or (self._last_sweep is not None and now - self._last_sweep < self._sweep_every):
            return
        with connect(self._database_url, autocommit=True) as conn:
            found = self.sweep(conn, now)
            if self._last_relocation is None or now - self._last_relocation >= self._relocation_every:
                found += self.relocation_sweep(conn, now)
                self._last_relocation = now
        self._last_sweep = now
        if found:
            log.info("sweep at %s: %d signal(s)", now.isoformat(), found)

    def relocation_sweep(self, conn: Connection, now: datetime) -> int:
        """The relocation job at `now` (stay points over stored night fixes)."""
        self.refresh(conn)
        vins = {d.vin for d in self.devices.values() if d.vin is not None}
        loans = registry.loans_by_vin(conn, vins)
        signals = relocations(conn, now=now, devices=self.devices, loans=loans, timezone=self._timezone)
        if signals:
            with conn.transaction():
                self._decide(conn, signals, {})
        return len(signals)

    def sweep(self, conn: Connection, now: datetime) -> int:
        """Offline and long-idle checks at `now` (wall time, or the event-time watermark).

        Each condition is signalled once per episode: the flags are kept in the device state
        (and saved), so a collector's resolution is not undone by the next sweep.
        """
        self.refresh(conn)
        watches = [absence.Watch(dev, self.states[d]) for d, dev in self.devices.items() if d in self.states]
        signals = absence.offline(watches, now, self.thresholds)
        wired = {d: st for d, st in self.states.items() if d in self.devices and self.devices[d].kind == "wired"}
        signals += absence.long_idle(wired, now, self.thresholds)
        if not signals:
            return 0
        flagged: dict[DeviceId, DeviceState] = {}
        for s in signals:
            state = flagged.get(s.device_id) or self.states[s.device_id]
            if s.kind == AlertKind.LONG_IDLE:
                flagged[s.device_id] = dataclasses.replace(state, idle_open=True)
            elif s.kind == AlertKind.OFFLINE:
                flagged[s.device_id] = dataclasses.replace(state, offline_open=True)
        with conn.transaction():
            self._decide(conn, signals, {})
            detector_state.save(conn, [(d, st, self.fence_states.get(d)) for d, st in flagged.items()])
        self.states.update(flagged)
        return len(signals)
