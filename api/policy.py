"""Privacy rules as pure functions: masking identities, and when a precise location may be read.

DESIGN.md (PIPL art. 28): precise positions and tracks only while the loan is delinquent,
assigned for recovery (a live alert on it is assigned to someone), or under a tamper check (a
live tamper / offline / power_cut alert); otherwise a coarse, city-level status. A legal hold in
force (bankruptcy stay, servicemember protection, dispute, promise to pay) withholds them
whatever else applies: locating the car is the first step of the recovery the hold stops.

This is the one masking rule: every response, event and printout that carries a coordinate of a
loan's car or borrower (alert evidence and history, last fixes, homes, stays, home fences) passes
through `LocationAccess.shown`, so a new field cannot leak by being forgotten in one place. It
finds coordinates by name (`lat`, `lon`, `latitude`, `longitude`, `lng`, any `*_lat` / `*_lon`)
and GeoJSON `coordinates` / `bbox` arrays, at any depth.
"""

from dataclasses import dataclass
from typing import Any, Protocol

from domain.vocabulary import LoanStatus

# One decimal degree of rounding is about 11 km: city-level, not a street.
COARSE_DECIMALS = 1
_LOCATION_KEYS = frozenset({"lat", "lon", "lng", "latitude", "longitude"})
_LOCATION_SUFFIXES = ("_lat", "_lon", "_lng", "_latitude", "_longitude")
_GEOJSON_KEYS = frozenset({"coordinates", "bbox"})


@dataclass(frozen=True, slots=True)
class LocationAccess:
    precise: bool
    reason: str

    def shown(self, document: Any) -> Any:
        """The document as this access lets it be shown: unchanged, or every coordinate city-level."""
        return document if self.precise else scrub(document)


class Exposure(Protocol):
    """What decides whether a vehicle's precise location may be read: its loan (none, or its status,
    days past due and legal hold) and the live alerts on that loan."""

    @property
    def loan_id(self) -> str | None: ...
    @property
    def loan_status(self) -> str | None: ...
    @property
    def days_past_due(self) -> int | None: ...
    @property
    def legal_hold(self) -> str | None: ...
    @property
    def assigned_alert(self) -> bool: ...
    @property
    def device_alert(self) -> bool: ...


NO_LOAN = LocationAccess(False, "the vehicle secures no loan")


def mask(text: str | None, *, keep_start: int = 1, keep_end: int = 1) -> str | None:
    """Mask all but the first and last characters: 'ZhangSan' -> 'Z******n', '京A12345' -> '京*****5'."""
    if text is None:
        return None
    if len(text) <= keep_start + keep_end:
        return "*" * len(text)
    return text[:keep_start] + "*" * (len(text) - keep_start - keep_end) + text[len(text) - keep_end :]


def location_access(vehicle: Exposure) -> LocationAccess:
    """Whether this vehicle's precise location may be read now, and why."""
    if vehicle.loan_id is None:
        return NO_LOAN
    if vehicle.loan_status == LoanStatus.SETTLED:
        return LocationAccess(False, "the loan is settled: the vehicle is no longer monitored")
    if vehicle.legal_hold:
        return LocationAccess(False, f"a legal hold is in force on the loan ({vehicle.legal_hold})")
    if (vehicle.days_past_due or 0) > 0:
        return LocationAccess(True, f"the loan is {vehicle.days_past_due} days past due")
    if vehicle.assigned_alert:
        return LocationAccess(True, "an alert on the loan is assigned for recovery")
    if vehicle.device_alert:
        return LocationAccess(True, "a tamper, power-cut or offline alert is open on the loan")
    return LocationAccess(False, "the loan is current and no recovery or tamper check is open")


def coarse(value: float | None) -> float | None:
    """A coordinate rounded to city level."""
    return None if value is None else round(value, COARSE_DECIMALS)


def least(accesses: list[LocationAccess]) -> LocationAccess:
    """Precise only when every one of them is (a fence bound to many loans is precise only if each
    of them is); else the first refusal's reason."""
    refused = [a for a in accesses if not a.precise]
    if refused:
        return refused[0]
    return accesses[0] if accesses else NO_LOAN


def _is_location_key(key: object) -> bool:
    if not isinstance(key, str):
        return False
    key = key.lower()
    return key in _LOCATION_KEYS or key in _GEOJSON_KEYS or key.endswith(_LOCATION_SUFFIXES)


def _round_all(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return coarse(value)
    if isinstance(value, list | tuple):
        return [_round_all(v) for v in value]
    return scrub(value)


def scrub(document: Any) -> Any:
    """The document with every coordinate rounded to city level (for loans without precise access)."""
    if isinstance(document, dict):
        out: dict[Any, Any] = {}
        for k, v in document.items():
            out[k] = _round_all(v) if _is_location_key(k) else scrub(v)
        return out
    if isinstance(document, list | tuple):
        return [scrub(v) for v in document]
    return document
