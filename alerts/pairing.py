"""Wired and wireless trackers of one car disagreeing on where it is (CN lenders' 子母分离).

A car's hidden wireless unit reports a few times a day; its wired unit reports every few
seconds while moving and hourly while parked. A fix of one is compared with where the other
was at that moment: its last trusted fix if taken within the 10-minute window, less the ground
a car could have covered in between (120 km/h × the time between the fixes: two units in one
moving car are minutes and kilometres apart in their reports, not in space); or, for a wired
partner, the place it has been standing since, when the fix falls inside that stop (a parked
wired unit's hourly heartbeats pin it down; a wireless unit's sparse fixes do not, it may have
driven off and back between them). More than 1 km apart, net of both accuracies and that
slack, means one device was torn out or moved to another car.
"""

from datetime import timedelta

from alerts.motion import DeviceState
from alerts.signal import Signal, fix_evidence
from alerts.thresholds import Thresholds
from domain.geo import haversine_m
from domain.ids import DeviceId
from domain.position import Position
from domain.vocabulary import AlertKind, DeviceKind

# How long after its last report a stopped partner is still believed to stand where it stood:
# a little more than a wired unit's hourly parked heartbeat.
_STOPPED_TRUST = timedelta(minutes=70)
_MAX_SPEED_MS = 120 / 3.6


def partner_at(
    partner: DeviceState, p: Position, th: Thresholds, *, kind: DeviceKind
) -> tuple[float, float, float] | None:
    """(lat, lon, uncertainty_m) of the partner, a device of this kind, at p's time, when it can be known.

    Only a wired partner reports often enough that a stop between its fixes is a real stop.
    """
    if partner.fix_ts is None:
        return None
    since = partner.stopped_since(th)
    if kind == DeviceKind.WIRED and since is not None and since <= p.ts <= partner.fix_ts + _STOPPED_TRUST:
        return partner.anchor_lat, partner.anchor_lon, partner.accuracy_m
    gap = abs((p.ts - partner.fix_ts).total_seconds())
    if gap <= th.separation_window_s:
        return partner.lat, partner.lon, partner.accuracy_m + _MAX_SPEED_MS * gap
    return None


def separation(
    p: Position, partner_id: DeviceId, partner: DeviceState, th: Thresholds, *, partner_kind: DeviceKind
) -> Signal | None:
    """A device_separation signal when p and the partner are clearly more than 1 km apart."""
    if p.coarse:
        return None
    where = partner_at(partner, p, th, kind=partner_kind)
    if where is None:
        return None
    lat, lon, uncertainty = where
    apart = haversine_m(p.lat, p.lon, lat, lon) - (p.accuracy_m or 0.0) - uncertainty
    if apart <= th.separation_m:
        return None
    evidence = {
        "fix": fix_evidence(p),
        "partner": {
            "device_id": partner_id,
            "lat": lat,
            "lon": lon,
            "ts": partner.fix_ts.isoformat() if partner.fix_ts else None,
        },
        "apart_m": round(apart),
        "threshold_m": th.separation_m,
    }
    return Signal(AlertKind.DEVICE_SEPARATION, p.device_id, p.ts, "", evidence)
