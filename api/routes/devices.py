"""Devices: list, register, pair to a vehicle, set the expected report cadence (installers)."""

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field

from api import cursor
from api.auth import Family, Principal
from api.deps import TEXT, Conn, require
from api.errors import AUTHENTICATED, BODY, NotFound, problems
from api.models.devices import Device, DevicePage
from domain.vocabulary import DeviceKind
from storage import devices
from storage.devices import DeviceNotFound
from storage.vehicles import VehicleNotFound

router = APIRouter(prefix="/api/v1/devices", tags=["devices"], responses=problems(*AUTHENTICATED))

_REGISTERED: dict[int | str, dict[str, Any]] = {201: {"model": Device, "description": "Registered"}}
DeviceIdPath = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]
Interval = Annotated[int | None, Field(None, ge=1, le=30 * 86400)]


class CadenceIn(BaseModel):
    moving_interval_s: Interval = None
    parked_interval_s: Interval = None
    scheduled_interval_s: Interval = None


class DeviceIn(CadenceIn):
    kind: DeviceKind
    vin: str | None = Field(None, min_length=1, max_length=64, pattern=TEXT)


class PairIn(BaseModel):
    vin: str | None = Field(None, min_length=1, max_length=64, pattern=TEXT, description="None takes the device off")


@router.get("", summary="Registered devices, by id", response_model=DevicePage)
def list_devices(
    conn: Conn,
    who: Annotated[Principal, Depends(require(Family.DEVICES_READ))],
    vin: Annotated[str | None, Query(max_length=64, pattern=TEXT)] = None,
    cursor_: Annotated[str | None, Query(alias="cursor", max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """A page of devices."""
    after = cursor.decode(cursor_, (str,))[0] if cursor_ else None
    rows = devices.list_devices(conn, vin=vin, after=after, limit=limit)
    following = cursor.encode(rows[-1].device_id) if len(rows) == limit else None
    return {"items": [asdict(r) for r in rows], "next_cursor": following}


@router.put(
    "/{device_id}",
    summary="Register (or re-register) a device",
    response_model=Device,
    responses=problems(404, *BODY) | _REGISTERED,
)
def register(
    conn: Conn,
    who: Annotated[Principal, Depends(require(Family.DEVICES_WRITE))],
    device_id: DeviceIdPath,
    body: DeviceIn,
    response: Response,
) -> dict[str, Any]:
    """201 when new; its vehicle, if named, must exist."""
    try:
        created = devices.register(conn, {"device_id": device_id, **body.model_dump()} | {"kind": body.kind.value})
    except VehicleNotFound as exc:
        raise NotFound(f"vin: vehicle {body.vin} does not exist", field="vin") from exc
    response.status_code = 201 if created else 200
    return asdict(devices.get_device(conn, device_id))


@router.put(
    "/{device_id}/vehicle", summary="Pair a device to a vehicle", response_model=Device, responses=problems(404, *BODY)
)
def pair(
    conn: Conn,
    who: Annotated[Principal, Depends(require(Family.DEVICES_WRITE))],
    device_id: DeviceIdPath,
    body: PairIn,
) -> dict[str, Any]:
    """Fit the device to a vehicle (or take it off)."""
    try:
        devices.pair(conn, device_id, body.vin)
    except VehicleNotFound as exc:
        raise NotFound(f"vin: vehicle {body.vin} does not exist", field="vin") from exc
    except DeviceNotFound as exc:
        raise NotFound(f"device {device_id} is not registered") from exc
    return asdict(devices.get_device(conn, device_id))


@router.put(
    "/{device_id}/cadence",
    summary="Set the expected report intervals",
    response_model=Device,
    responses=problems(404, *BODY),
)
def cadence(
    conn: Conn,
    who: Annotated[Principal, Depends(require(Family.DEVICES_WRITE))],
    device_id: DeviceIdPath,
    body: CadenceIn,
) -> dict[str, Any]:
    """The offline detector judges silence against these."""
    try:
        devices.set_cadence(
            conn,
            device_id,
            moving_s=body.moving_interval_s,
            parked_s=body.parked_interval_s,
            scheduled_s=body.scheduled_interval_s,
        )
    except DeviceNotFound as exc:
        raise NotFound(f"device {device_id} is not registered") from exc
    return asdict(devices.get_device(conn, device_id))
