"""Vehicles: last position and status, and tracks between two times, under the privacy rules.

Every read is audited with its purpose. A track is served fix by fix when the span is at most
RAW_SPAN or its fixes fit in MAX_POINTS (a day of a car reporting once a minute does); otherwise it
is downsampled to about MAX_POINTS bins (positions_5min on TimescaleDB, date_bin otherwise).
"""

import csv
import io
import math
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from api import views
from api.auth import Family, Principal
from api.deps import TEXT, Credentials, limit_location_reads, session
from api.errors import AUTHENTICATED, LocationRestricted, NotFound, Unprocessable, problems
from api.models.vehicles import Track, VehicleStatus
from api.policy import location_access, mask
from storage import audit, detector_state, tracks
from storage.database import Connection
from storage.migrate import Layout, current_layout
from storage.tracks import TrackPoint, VehicleLoan

router = APIRouter(prefix="/api/v1/vehicles", tags=["vehicles"], responses=problems(*AUTHENTICATED, 404))

RAW_SPAN = timedelta(hours=6)
MAX_SPAN = timedelta(days=31)
MAX_POINTS = 2000

Vin = Annotated[str, Path(min_length=1, max_length=64, pattern=TEXT)]
Purpose = Annotated[
    str, Query(min_length=3, max_length=500, pattern=TEXT, description="Why the location is read (audited)")
]


def _vehicle(conn: Connection, who: Principal, vin: str, *, read: str, purpose: str) -> VehicleLoan:
    vehicle = tracks.vehicle_loan(conn, vin)
    if vehicle is None or not who.sees_loan(vehicle.assigned_collector):
        audit.record_out_of_scope(
            conn, actor=who.name, read=read, subject_type="vehicle", subject_id=vin, purpose=purpose
        )
        raise NotFound(f"vehicle {vin} does not exist or is not in your scope")
    return vehicle


@router.get("/{vin}", summary="Last position and status of a vehicle's devices", response_model=VehicleStatus)
def vehicle_status(request: Request, credentials: Credentials, vin: Vin, purpose: Purpose) -> views.JSONBody:
    """Precise last fixes when the privacy rules allow, else city-level; audited either way."""
    with session(request, credentials, Family.VEHICLES) as s:
        limit_location_reads(request, s.who)
        return views.JSONBody(_status(s.conn, s.who, vin, purpose), headers=views.NO_STORE)


def _status(conn: Connection, who: Principal, vin: str, purpose: str) -> dict[str, Any]:
    vehicle = _vehicle(conn, who, vin, read="location_read", purpose=purpose)
    access = location_access(vehicle)
    fixes = tracks.last_fixes(conn, vin)
    # Online: heard from, and not judged offline by the detectors (each device by its own threshold).
    offline = detector_state.judged_offline(conn, [f.device_id for f in fixes])
    devices = []
    for fix in fixes:
        online = fix.ts is not None and fix.device_id not in offline
        entry: dict[str, Any] = {"device_id": fix.device_id, "kind": fix.kind, "active": fix.active}
        entry |= {"last_fix_at": fix.ts, "online": online, "alarms": fix.alarms or [], "lat": fix.lat, "lon": fix.lon}
        if access.precise:
            entry |= {"accuracy_m": fix.accuracy_m, "speed_kmh": fix.speed_kmh}
            entry |= {"source": fix.source, "battery_pct": fix.battery_pct, "power_v": fix.power_v}
        devices.append(access.shown(entry))
    audit.record(
        conn,
        actor=who.name,
        action="location_read",
        subject_type="vehicle",
        subject_id=vin,
        purpose=purpose,
        detail={"loan_id": vehicle.loan_id, "precise": access.precise},
    )
    return {
        "vin": vin,
        "plate": vehicle.plate if who.sees_identity else mask(vehicle.plate),
        "make_model": vehicle.make_model,
        "loan_id": vehicle.loan_id,
        "loan_status": vehicle.loan_status,
        "days_past_due": vehicle.days_past_due,
        "precise_location": access.precise,
        "access_reason": access.reason,
        "devices": devices,
    }


def bin_seconds(span: timedelta, *, layout: Layout) -> int | None:
    """The downsampling bin for a span (None: serve raw fixes)."""
    if span <= RAW_SPAN:
        return None
    step = tracks.bin_grid_s(layout)
    return max(step, math.ceil(span.total_seconds() / MAX_POINTS / step) * step)


@router.get(
    "/{vin}/track",
    summary="The vehicle's track between two times (precise access only)",
    response_model=Track,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "JSON, or CSV"}},
)
def vehicle_track(
    request: Request,
    credentials: Credentials,
    vin: Vin,
    start: datetime,
    end: datetime,
    purpose: Purpose,
    format: Literal["json", "csv"] = "json",
) -> Response:
    """Fixes in [start, end), downsampled past six hours; CSV is an audited export."""
    if start.tzinfo is None or end.tzinfo is None:
        raise Unprocessable("start, end: give a time zone (e.g. 2026-01-01T00:00:00Z)", field="start")
    if end <= start:
        raise Unprocessable("end: must be after start", field="end")
    if end - start > MAX_SPAN:
        raise Unprocessable(f"end: a track spans at most {MAX_SPAN.days} days", field="end")
    with session(request, credentials, Family.VEHICLES) as s:
        limit_location_reads(request, s.who)
        return _track(s.conn, s.who, vin, start, end, purpose, format)


def _track(
    conn: Connection, who: Principal, vin: str, start: datetime, end: datetime, purpose: str, format: str
) -> Response:
    action = "track_export" if format == "csv" else "track_read"
    vehicle = _vehicle(conn, who, vin, read=action, purpose=purpose)
    access = location_access(vehicle)
    detail = {"loan_id": vehicle.loan_id, "start": start.isoformat(), "end": end.isoformat()}
    if not access.precise:
        audit.record(
            conn,
            actor=who.name,
            action=action + "_refused",
            subject_type="vehicle",
            subject_id=vin,
            purpose=purpose,
            detail=detail | {"reason": access.reason},
        )
        raise LocationRestricted(f"no track for vehicle {vin}: {access.reason}")
    devices = [f.device_id for f in tracks.last_fixes(conn, vin)]
    layout = current_layout(conn) or "native"
    step = bin_seconds(end - start, layout=layout)
    if step is None:
        points = tracks.raw_track(conn, devices, start, end, limit=MAX_POINTS * 10)
    else:
        # Every fix when they fit: more faithful than bins, and reading them costs the database
        # about a third of what grouping them does.
        points = tracks.raw_track(conn, devices, start, end, limit=MAX_POINTS + 1)
        if len(points) <= MAX_POINTS:
            step = None
        else:
            points = tracks.binned_track(conn, devices, start, end, bin_s=step, layout=layout)
    audit.record(
        conn,
        actor=who.name,
        action=action,
        subject_type="vehicle",
        subject_id=vin,
        purpose=purpose,
        detail=detail | {"points": len(points), "bin_s": step},
    )
    if format == "csv":
        return Response(_csv(points), media_type="text/csv", headers=views.NO_STORE)
    body = {"vin": vin, "start": start, "end": end, "bin_s": step, "points": points}
    return views.JSONBody(body, headers=views.NO_STORE)


def _csv(points: list[TrackPoint]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["device_id", "ts", "lat", "lon", "speed_kmh", "fixes"])
    for p in points:
        writer.writerow([p.device_id, p.ts.isoformat(), p.lat, p.lon, p.speed_kmh, p.fixes])
    return out.getvalue()
