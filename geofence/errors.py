"""The geofence engine's errors: bad fence input names the field, illegal transitions name state and event."""


class GeofenceError(Exception):
    """Base of every geofence failure."""


class FenceDefinitionError(GeofenceError, ValueError):
    """A fence (or its GeoJSON) is malformed; the message names the field and the reason."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class IllegalTransition(GeofenceError):
    """The membership table has no entry for this (state, event) pair."""

    def __init__(self, state: str, event: str) -> None:
        super().__init__(f"no transition from state {state!r} on event {event!r}")
        self.state = state
        self.event = event


class UnknownRegion(GeofenceError, KeyError):
    """A loan is bound to a region no loaded region set holds (or to a name that fits several)."""

    def __init__(self, region_id: str, reason: str = "no loaded region set holds it") -> None:
        super().__init__(region_id, reason)
        self.region_id = region_id
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.region_id!r}: {self.reason}"
