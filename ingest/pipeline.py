"""The narrow hand-off from the ingestor to the detectors."""

from collections.abc import Callable, Sequence
from typing import Protocol

from domain.position import Position
from storage.database import Connection


class PositionSink(Protocol):
    """Judges each batch's new positions inside the batch's transaction."""

    def evaluate(self, conn: Connection, positions: Sequence[Position]) -> Callable[[], None]:
        """Persist what follows from these positions; return the step to run once committed."""
        ...


def nothing_after() -> None:
    """The after-commit step of a sink with nothing to do."""
    return None


class NoDetectors:
    """A sink that does nothing: ingest alone, e.g. for the ingest benchmark's baseline."""

    def evaluate(self, conn: Connection, positions: Sequence[Position]) -> Callable[[], None]:
        return nothing_after
