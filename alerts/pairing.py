"""Wired and wireless trackers of one car disagreeing on where it is (CN lenders' 子母分离).

A car's hidden wireless unit reports a few times a day; its wired unit reports every few
seconds while moving and hourly while parked. A fix of one is compared with where the other
was at that moment: its last trusted fix if taken within the 10-minute window, or the place it
has been standing since, when the fix falls inside that stop (a parked wired unit's hourly
heartbeats pin it down between reports). More than 1 km apart, net of both accuracies, means
one device was torn out or moved to another car.
"""

from datetime import timedelta

from alerts.motion import DeviceState
from alerts.signal import Signal, fix_evidence
from alerts.thresholds import Thresholds
from domain.geo import haversine_m
from domain.position import Position
from domain.vocabulary import AlertKind

# How long after its last report a stopped partner is still believed to stand where it stood:
# a little more than a wired unit's hourly parked heartbeat.
_STOPPED_TRUST = timedelta(minutes=70)


def partner_at(partner: DeviceState, p: Position, th: Thresholds) -> tuple[float, float, float] | None:
    """(lat, lon, accuracy_m) of the partner at p's time, when it can be known."""
    if partner.fix_ts is None:
        return None
    if abs((p.ts - partner.fix_ts).total_seconds()) <= th.separation_window_s:
        return partner.lat, partner.lon, partner.accuracy_m
    since = partner.stopped_since(th)
    if since is not None and since <= p.ts <= partner.fix_ts + _STOPPED_TRUST:
        return partner.anchor_lat, partner.anchor_lon, partner.accuracy_m
    return None


def separation(p: Position, partner_id: str, partner: DeviceState, th: Thresholds) -> Signal | None:
    """A device_separation signal when p and the partner are clearly more than 1 km apart."""
    if p.coarse:
        return None
    where = partner_at(partner, p, th)
    if where is None:
        return None
    lat, lon, accuracy = where
    apart = haversine_m(p.lat, p.lon, lat, lon) - (p.accuracy_m or 0.0) - accuracy
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
