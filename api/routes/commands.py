"""Commands to a vehicle's tracker (locate now, chase mode on/off): supervisors and admins only,
published to trackers/{device_id}/command at QoS 1, logged and audited whether sent or not."""

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api import downlink
from api.auth import Family, Principal
from api.deps import TEXT, Conn, require
from api.errors import AUTHENTICATED, BODY, NotFound, Unavailable, problems
from api.holds import refuse_if_held
from api.models.devices import CommandSent
from api.ports import DownlinkError
from api.routes.devices import DeviceIdPath
from storage import audit, devices, tracks
from storage.database import Connection
from storage.devices import DeviceNotFound

router = APIRouter(prefix="/api/v1/devices", tags=["commands"], responses=problems(*AUTHENTICATED))


class CommandIn(BaseModel):
    command: Literal["locate", "chase_on", "chase_off"]
    purpose: str = Field(min_length=3, max_length=500, pattern=TEXT, description="Why (audited)")


def _record(
    conn: Connection, who: Principal, device_id: str, body: CommandIn, payload: dict[str, Any], error: str | None
) -> int:
    with conn.transaction():
        command_id = devices.log_command(
            conn,
            device_id=device_id,
            command=body.command,
            payload=payload,
            actor=who.name,
            purpose=body.purpose,
            status="failed" if error else "sent",
            error=error,
        )
        audit.record(
            conn,
            actor=who.name,
            action=f"command_{body.command}",
            subject_type="device",
            subject_id=device_id,
            purpose=body.purpose,
            detail={"command_id": command_id, "ref": payload["ref"], "sent": error is None},
        )
    return command_id


@router.post(
    "/{device_id}/commands",
    status_code=202,
    summary="Send a command to a tracker",
    response_model=CommandSent,
    responses=problems(404, 409, *BODY),
)
async def send_command(
    request: Request,
    conn: Conn,
    who: Annotated[Principal, Depends(require(Family.COMMANDS))],
    device_id: DeviceIdPath,
    body: CommandIn,
) -> dict[str, Any]:
    """Accepted once the broker has the message (PUBACK); 503 when the broker is unreachable."""
    try:
        device = await run_in_threadpool(devices.get_device, conn, device_id)
    except DeviceNotFound as exc:
        raise NotFound(f"device {device_id} is not registered") from exc
    vehicle = await run_in_threadpool(tracks.vehicle_loan, conn, device.vin) if device.vin else None
    refuse_if_held(vehicle.legal_hold if vehicle else None, f"the {body.command} command")
    payload = downlink.command_payload(body.command, ref=uuid.uuid4().hex, actor=who.name)
    try:
        topic = await request.app.state.downlink(device_id, payload)
    except DownlinkError as exc:
        await run_in_threadpool(_record, conn, who, device_id, body, payload, str(exc))
        raise Unavailable(f"the command was not sent: {exc}") from exc
    command_id = await run_in_threadpool(_record, conn, who, device_id, body, payload, None)
    return {"command_id": command_id, "topic": topic, "payload": payload, "status": "sent"}
