"""The narrow hand-off from the ingestor to the detectors."""

from collections.abc import Mapping, Sequence
from typing import Protocol

from domain.ids import DeviceId
from domain.position import Position


class PositionSink(Protocol):
    """Receives each committed batch's new positions, per device, in fix-time order."""

    def accept(self, batch: Mapping[DeviceId, Sequence[Position]]) -> None: ...


class NoDetectors:
    """A sink that does nothing: ingest alone, e.g. for the ingest benchmark's baseline."""

    def accept(self, batch: Mapping[DeviceId, Sequence[Position]]) -> None:
        return None


def by_device(positions: Sequence[Position]) -> dict[DeviceId, list[Position]]:
    """Group positions per device, each group sorted by fix time."""
    groups: dict[DeviceId, list[Position]] = {}
    for p in positions:
        groups.setdefault(p.device_id, []).append(p)
    for group in groups.values():
        group.sort(key=lambda p: p.ts)
    return groups
