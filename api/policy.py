"""Privacy rules as pure functions: masking identities, and when a precise location may be read.

DESIGN.md (PIPL art. 28): precise positions and tracks only while the loan is delinquent,
assigned for recovery (a live alert on it is assigned to someone), or under a tamper check (a
live tamper / offline / power_cut alert); otherwise a coarse, city-level status. A legal hold in
force (bankruptcy stay, servicemember protection, dispute, promise to pay) withholds them
whatever else applies: locating the car is the first step of the recovery the hold stops.
"""

from dataclasses import dataclass
from typing import Any

from storage.tracks import VehicleLoan

# One decimal degree of rounding is about 11 km: city-level, not a street.
COARSE_DECIMALS = 1
_LOCATION_KEYS = frozenset({"lat", "lon", "latitude", "longitude", "home_lat", "home_lon"})


@dataclass(frozen=True, slots=True)
class LocationAccess:
    precise: bool
    reason: str


def mask(text: str | None, *, keep_start: int = 1, keep_end: int = 1) -> str | None:
    """Mask all but the first and last characters: 'ZhangSan' -> 'Z******n', '京A12345' -> '京*****5'."""
    if text is None:
        return None
    if len(text) <= keep_start + keep_end:
        return "*" * len(text)
    return text[:keep_start] + "*" * (len(text) - keep_start - keep_end) + text[len(text) - keep_end :]


def location_access(vehicle: VehicleLoan) -> LocationAccess:
    """Whether this vehicle's precise location may be read now, and why."""
    if vehicle.loan_id is None:
        return LocationAccess(False, "the vehicle secures no loan")
    if vehicle.loan_status == "settled":
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


def scrub(evidence: Any) -> Any:
    """Evidence with every coordinate rounded to city level (for loans without precise access)."""
    if isinstance(evidence, dict):
        return {
            k: coarse(v) if k in _LOCATION_KEYS and isinstance(v, int | float) and not isinstance(v, bool) else scrub(v)
            for k, v in evidence.items()
        }
    if isinstance(evidence, list):
        return [scrub(v) for v in evidence]
    return evidence
