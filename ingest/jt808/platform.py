"""Messages the platform sends: general response, registration response, position query and
temporary tracking, and the auth code it hands out (pure encoders over the header module)."""

import hashlib
import hmac
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wire.jt808.framing import wrap
from wire.jt808.header import Header, encode_packet
from wire.jt808.messages import MessageId, RegisterResult, Result

# Chase mode on a JT/T 808 terminal is temporary tracking (0x8202), which needs a validity: a
# day, renewed by sending chase_on again; chase_off sends interval 0, which stops it at once.
CHASE_VALIDITY_S = 86_400


def general_response(serial: int, msg_id: int, result: Result) -> bytes:
    """0x8001 body: the answered serial and id, and the result."""
    return struct.pack(">HHB", serial & 0xFFFF, msg_id, result)


def register_response(serial: int, result: RegisterResult, auth_code: str | None) -> bytes:
    """0x8100 body: the answered serial, the result and, on success only, the auth code."""
    body = struct.pack(">HB", serial & 0xFFFF, result)
    if result is RegisterResult.OK and auth_code is not None:
        body += auth_code.encode("ascii")
    return body


def tracking(interval_s: int, validity_s: int) -> bytes:
    """0x8202 body: report every interval_s seconds for validity_s seconds (interval 0 stops)."""
    return struct.pack(">HI", interval_s, validity_s)


def auth_code(secret: bytes, phone: str) -> str:
    """The code a registered terminal authenticates with: a keyed digest of its phone number,
    so every gateway process with the same secret gives and accepts the same code, with no table."""
    return hmac.new(secret, phone.encode("ascii"), hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Command:
    """A platform message carrying a lienwatch command."""

    msg_id: MessageId
    interval_s: int = 0
    validity_s: int = 0

    def body(self) -> bytes:
        """The message body."""
        if self.msg_id is MessageId.TEMPORARY_TRACKING:
            return tracking(self.interval_s, self.validity_s)
        return b""

    def emqx_body(self) -> dict[str, Any]:
        """The body as EMQX's JT/T 808 gateway takes it on its downlink topic."""
        if self.msg_id is MessageId.TEMPORARY_TRACKING:
            return {"period": self.interval_s, "expiry": self.validity_s}
        return {}


def command_for(payload: Mapping[str, Any]) -> Command | None:
    """The JT/T 808 message for a lienwatch command payload (locate -> 0x8201, set_interval -> 0x8202)."""
    cmd = payload.get("cmd")
    if cmd == "locate":
        return Command(MessageId.LOCATION_QUERY)
    if cmd == "set_interval":
        interval = payload.get("interval_s")
        if interval is None:
            return Command(MessageId.TEMPORARY_TRACKING, 0, 0)
        if isinstance(interval, int) and not isinstance(interval, bool) and 0 < interval <= 0xFFFF:
            return Command(MessageId.TEMPORARY_TRACKING, interval, CHASE_VALIDITY_S)
    return None


def frame(msg_id: int, body: bytes, *, to: Header, serial: int) -> bytes:
    """A platform frame to the terminal of header `to`, in that terminal's edition."""
    header = Header(msg_id=msg_id, phone=to.phone, serial=serial, version=to.version)
    return wrap(encode_packet(header, body))
