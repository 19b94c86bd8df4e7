"""What the API needs from the rest of the system, as small ports the composition root fills in.

The API owns HTTP: authentication, the rules of who may do what, the shape of requests and
responses. Decoding trackers' messages, talking MQTT to them and probing the broker belong to
other rooms; the root (lienwatch/api_wiring.py) hands their implementations to `create_app`.
"""

from collections.abc import Mapping
from typing import Any, Protocol

from storage.database import Connection


class DownlinkError(Exception):
    """The command could not be handed to the broker."""


class ReplayOutcome(Protocol):
    """What a quarantine replay did: entries replayed, positions stored, refusals left by reason."""

    @property
    def replayed(self) -> int: ...

    @property
    def positions_stored(self) -> int: ...

    @property
    def still_refused(self) -> Mapping[str, int]: ...


class QuarantineReplay(Protocol):
    """Re-decodes pending quarantine entries (those refused for `reason`, or all) under the
    configured limits; those that pass are stored and marked replayed."""

    def __call__(self, conn: Connection, reason: str | None) -> ReplayOutcome: ...


class Downlink(Protocol):
    """Hands a command to a tracker and waits for the broker to take it; returns the topic.
    Raises DownlinkError when the broker cannot be reached or refuses it."""

    async def __call__(self, device_id: str, payload: dict[str, Any]) -> str: ...


class BrokerProbe(Protocol):
    """Whether the broker accepts a connection now (readiness)."""

    async def __call__(self) -> bool: ...
