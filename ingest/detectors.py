"""The detectors' shell: load what the judge needs, call it, persist its verdict.

Theory of operation. The ingestor commits a batch's positions and, in the same transaction,
hands the new ones to `evaluate`. The shell refreshes the judge's `World` (devices, fences,
loan bindings; every `reload_s`), calls `alerts.judge.judge` with loans read fresh from the
database, writes the verdict's alerts and device states, and returns the after-commit step that
adopts the verdict: a batch retried after a database failure is judged again from the same
state, so nothing is lost or doubled. Sweeps (`sweep`, `relocation_sweep`) are run by the
scheduler on wall time, or by `tick` between batches on an event-time `Watermark`.
"""

import dataclasses
import logging
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta

from alerts import judge, relocation, state_codec
from alerts.clock import Watermark, grid
from alerts.judge import Memory, Verdict, World
from alerts.thresholds import Policy
from domain.assets import Device, Loan
from domain.ids import Vin
from domain.position import Position
from ingest import alert_writer
from storage import detector_state, fences
from storage.database import Connection, connect
from storage.devices import all_devices
from storage.loans import loans_by_vin
from storage.stays import night_fixes

log = logging.getLogger(__name__)


class DetectorSink:
    """The detector state of one ingest process; implements ingest.pipeline.PositionSink."""

    def __init__(
        self,
        *,
        database_url: str,
        policy: Policy | None = None,
        reload_s: float = 30.0,
        watermark: Watermark | None = None,
        sweep_every_s: float = 300.0,
        relocation_every_s: float = 6 * 3600.0,
        timezone: str = "Asia/Shanghai",
        owns: Callable[[Device], bool] | None = None,
    ) -> None:
        self._database_url = database_url
        self.policy = policy or Policy()
        self.owns = owns  # partitioned workers: judge and sweep only the vehicles owned here
        self.watermark = watermark
        self._reload_s = reload_s
        self._sweep_every = timedelta(seconds=sweep_every_s)
        self._relocation_every = timedelta(seconds=relocation_every_s)
        self._timezone = timezone
        self.memory = Memory()
        self.world = World.empty(self.policy)
        self._loaded_at = float("-inf")
        self._memory_loaded = False
        self._last_sweep: datetime | None = None
        self._relocated: datetime | None = None  # relocation has judged its grid up to here

    def refresh(self, conn: Connection, *, force: bool = False) -> None:
        """Reload devices, fences and loan bindings (periodically; they change rarely)."""
        if not force and time.monotonic() - self._loaded_at < self._reload_s:
            return
        devices = all_devices(conn)
        loans = loans_by_vin(conn, {d.vin for d in devices.values() if d.vin is not None})
        self.world = World.build(devices, fences.load_active_fences(conn), loans, self.policy)
        if self.owns is not None:  # built from every device first, so fence ids are the same everywhere
            owned = {d: dev for d, dev in devices.items() if self.owns(dev)}
            self.world = dataclasses.replace(self.world, devices=owned)
        if not self._memory_loaded:  # after a restart or rebalance: resume where the last owner stopped
            for device_id, data in detector_state.load_all(conn):
                if self.owns is not None and device_id not in self.world.devices:
                    continue
                motion, fenced = state_codec.decode(data)
                self.memory.motion[device_id] = motion
                if fenced is not None:
                    self.memory.fences[device_id] = fenced
            self._memory_loaded = True
        self._loaded_at = time.monotonic()

    def reown(self, conn: Connection, *, relocate_since: datetime | None = None) -> None:
        """Ownership changed (partitioned workers): forget every device, reload the owned ones' state.

        With `relocate_since`, relocation judges its grid again from there: the instants the
        previous owner of vehicles taken over may not have reached (a repeat only refreshes)."""
        self.memory = Memory()
        self._memory_loaded = False
        self.refresh(conn, force=True)
        if relocate_since is not None and (self._relocated is None or relocate_since < self._relocated):
            self._relocated = relocate_since

    def evaluate(self, conn: Connection, positions: Sequence[Position]) -> Callable[[], None]:
        """Judge a committed-to-be batch inside its transaction; returns the after-commit step."""
        self.refresh(conn)
        verdict = judge.judge(self.memory, positions, self.world, _loans_from(conn))
        self._persist(conn, verdict)
        latest = max((p.ts for p in positions), default=None)
        earliest = min((p.ts for p in positions), default=None)

        def commit() -> None:
            self.memory.adopt(verdict)
            if latest is not None and self.watermark is not None:
                self.watermark.advance(latest)
            if self._relocated is None:
                self._relocated = earliest

        return commit

    def tick(self) -> None:
        """Called by the ingest loop between batches: sweep when the event-time clock has moved on.

        Only with a watermark (simulation, replay); on wall time `lienwatch scheduler` sweeps.
        Relocation judges every instant of its grid the clock has passed, each over the fixes
        before it, so a day replayed in one batch finds what it finds a minute at a time.
        """
        now = self.watermark() if self.watermark is not None else None
        if now is None or (self._last_sweep is not None and now - self._last_sweep < self._sweep_every):
            return
        with connect(self._database_url, autocommit=True) as conn:
            found = self.sweep(conn, now)
            for at in grid(self._relocated or now, now, self._relocation_every):
                found += self.relocation_sweep(conn, at)
                self._relocated = at
        self._last_sweep = now
        if found:
            log.info("sweep at %s: %d signal(s)", now.isoformat(), found)

    def sweep(self, conn: Connection, now: datetime) -> int:
        """Offline and long-idle checks at `now`; the number of signals."""
        self.refresh(conn)
        verdict = judge.sweep(self.memory, self.world, _loans_from(conn), now)
        if verdict.signals:
            with conn.transaction():
                self._persist(conn, verdict)
            self.memory.adopt(verdict)
        return verdict.signals

    def relocation_sweep(self, conn: Connection, now: datetime) -> int:
        """The relocation job at `now` (stay points over stored night fixes); the number of signals."""
        self.refresh(conn)
        loans = loans_by_vin(conn, {d.vin for d in self.world.devices.values() if d.vin is not None})
        chosen = relocation.tracked(self.world.devices, loans)
        since = now - relocation.HOME_WINDOW
        tracks = night_fixes(conn, list(chosen.values()), since, now, self._timezone, relocation.NIGHT_HOURS)
        verdict = judge.relocate(tracks, self.world, loans, now=now, timezone=self._timezone)
        if verdict.signals:
            with conn.transaction():
                self._persist(conn, verdict)
        return verdict.signals

    def _persist(self, conn: Connection, verdict: Verdict) -> None:
        alert_writer.apply(conn, verdict.actions)
        detector_state.save(
            conn,
            [(d, st.last_ts, state_codec.encode(st, fenced)) for d, st, fenced in verdict.touched(self.memory)],
        )


def _loans_from(conn: Connection) -> Callable[[Collection[Vin]], Mapping[Vin, Loan]]:
    """The judge's loan lookup: days past due read fresh, at decision time."""
    return lambda vins: loans_by_vin(conn, vins) if vins else {}
