"""EMQX's JT/T 808 gateway: the JSON it publishes on `jt808/{clientid}/{phone}/up`, read with
the same location mapping as native frames.

EMQX answers the terminal itself (registration, authentication, 0x8001) and publishes each
uplink message as `{"header": {"msg_id", "phone", "msg_sn", ...}, "body": {...}}` with the
standard's integers unchanged: latitude and longitude in 1e-6 degrees, speed in 0.1 km/h, time
as the BCD digits YYMMDDhhmmss (UTC+8); additional items under body.extra (`mileage`, `rssi`,
`gnss_sat_num`). A 0x0704 body lists its reports under `location`; a 0x0201 under `params`.
Its clientid is the terminal's phone, so commands go back on `jt808/{phone}/{phone}/dn`.
"""

from collections.abc import Mapping
from typing import Any

from domain.vocabulary import RejectReason
from ingest.jt808.platform import Command
from ingest.jt808.uplink import Item
from wire.jt808.errors import Jt808Error
from wire.jt808.location import from_json, to_fix
from wire.jt808.messages import UPLINK, MessageId

UP_SUBSCRIPTION = "jt808/+/+/up"


def down_topic(phone: str) -> str:
    """Where EMQX takes platform messages for this terminal (its clientid is the phone)."""
    return f"jt808/{phone}/{phone}/dn"


def is_phone(device_id: str) -> bool:
    """True for an id that is a JT/T 808 terminal's phone number (12 digits 2013, 20 digits 2019)."""
    return device_id.isdigit() and len(device_id) in (12, 20)


def command_json(command: Command) -> dict[str, Any]:
    """A platform message as EMQX takes it on the downlink topic (it fills phone and serial)."""
    return {"header": {"msg_id": int(command.msg_id)}, "body": command.emqx_body()}


def fixes_from_json(message: Any, phone: str, *, removal_bit: int | None = None) -> list[Item]:
    """Contract fields of each report in one EMQX message; Jt808Error for the whole message."""
    if not isinstance(message, Mapping):
        raise Jt808Error(RejectReason.BAD_SHAPE, "payload: expected an object with header and body")
    header, body = message.get("header"), message.get("body")
    if not isinstance(header, Mapping) or not isinstance(body, Mapping):
        raise Jt808Error(RejectReason.BAD_SHAPE, "payload: header and body must be objects")
    claimed = header.get("phone")
    # A string of BCD digits per EMQX's field table; its examples also show a bare number,
    # which has lost the leading zeros.
    if claimed is not None and str(claimed).lstrip("0") != phone.lstrip("0"):
        detail = f"header.phone: {claimed!r} does not match topic phone {phone!r}"
        raise Jt808Error(RejectReason.DEVICE_MISMATCH, detail)
    msg_id = header.get("msg_id")
    if not isinstance(msg_id, int) or isinstance(msg_id, bool):
        raise Jt808Error(RejectReason.MISSING_FIELD, "header.msg_id: required integer")
    if msg_id not in UPLINK:
        raise Jt808Error(RejectReason.UNKNOWN_MESSAGE, f"header.msg_id: {msg_id} (0x{msg_id:04x}) not handled")
    reports: list[Any]
    if msg_id == MessageId.LOCATION:
        reports = [body]
    elif msg_id == MessageId.LOCATION_QUERY_RESPONSE:
        reports = [body.get("params")]
    elif msg_id == MessageId.BULK_LOCATION:
        listed = body.get("location")
        if not isinstance(listed, list):
            raise Jt808Error(RejectReason.BAD_SHAPE, "body.location: expected the list of reports")
        reports = listed
    else:
        return []  # heartbeats, registration, answers: EMQX has dealt with them, nothing to store
    items: list[Item] = []
    for report in reports:
        try:
            if not isinstance(report, Mapping):
                raise Jt808Error(RejectReason.BAD_SHAPE, "location: expected an object")
            items.append(to_fix(from_json(report), removal_bit=removal_bit))
        except Jt808Error as exc:
            items.append(exc)
    return items
