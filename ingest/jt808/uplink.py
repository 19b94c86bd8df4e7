"""What the store keeps of a native terminal message, and reading it back into contract fixes.

The gateway hands the store the raw frames of one message (several when it was subpackaged)
under the topic `jt808-tcp/{phone}`, or `jt808-tcp/{phone}/refused` when the session was not
allowed to send it (registration of an unknown phone, no authentication). Decoding those bytes
is pure and repeatable, so the quarantine's replay reads a stored frame exactly as the gateway
did, and the gateway's positions take the same validation as every MQTT fix.
"""

from dataclasses import dataclass
from typing import Any

from domain.vocabulary import RejectReason
from wire.jt808.errors import FrameError, Jt808Error
from wire.jt808.framing import Deframer, unwrap
from wire.jt808.header import Header, Packet, parse_packet
from wire.jt808.location import parse_location, split_bulk, to_fix
from wire.jt808.messages import UPLINK, Handling, MessageId
from wire.jt808.reassembly import Reassembler

NATIVE_PREFIX = "jt808-tcp"
NO_PHONE = "-"  # topic level of a frame whose phone number could not be read
# A bulk upload of a few hundred reports fits in far fewer packages; more is held in memory
# for nothing (a terminal could otherwise park 65,535 packages per message in the gateway).
MAX_PACKAGES = 64

Item = dict[str, Any] | Jt808Error


@dataclass(frozen=True, slots=True)
class Uplink:
    """One terminal message: its header and (reassembled) body."""

    header: Header
    body: bytes


def native_topic(phone: str | None, *, refused: bool = False) -> str:
    """The topic a native message is stored and quarantined under."""
    base = f"{NATIVE_PREFIX}/{phone or NO_PHONE}"
    return f"{base}/refused" if refused else base


def parse_native_topic(topic: str) -> tuple[str | None, bool] | None:
    """(phone or None, refused) of a native topic; None when the topic is not one."""
    parts = topic.split("/")
    if parts[0] != NATIVE_PREFIX or len(parts) not in (2, 3) or not parts[1]:
        return None
    if len(parts) == 3 and parts[2] != "refused":
        return None
    phone = None if parts[1] == NO_PHONE else parts[1]
    return phone, len(parts) == 3


def read_message(payload: bytes) -> Uplink:
    """The one message held in these raw frames; Jt808Error when broken or incomplete."""
    deframer = Deframer(max_frame=max(len(payload), 1) + 2)
    raws = deframer.feed(payload)
    if deframer.pending():
        raws.append(deframer.pending())
    if not raws:
        raise FrameError("frame: no bytes between delimiters")
    packets: list[tuple[Packet, bytes]] = [(parse_packet(unwrap(raw)), raw) for raw in raws]
    if len(packets) == 1 and not packets[0][0].header.subpackaged:
        packet = packets[0][0]
        return Uplink(packet.header, packet.body)
    if not all(p.header.subpackaged for p, _ in packets):
        raise FrameError(f"frames: {len(packets)} frames that are not the packages of one message")
    check_packages(packets[0][0].header)
    assembler = Reassembler(max_messages=len(packets))
    done = None
    for packet, raw in packets:
        done, _ = assembler.add(packet, raw)
        if done is not None:
            break
    if done is None or assembler.drain() or len(done.frames) != len(packets):
        first = packets[0][0].header
        raise Jt808Error(
            RejectReason.INCOMPLETE,
            f"subpackages: {len(packets)} frame(s) of message 0x{first.msg_id:04x}, not its {first.packages} packages",
        )
    return Uplink(done.header, done.body)


def check_packages(header: Header) -> None:
    """Jt808Error for a subpackaged message lienwatch would not reassemble (unknown id, too long)."""
    handling(header.msg_id)
    if header.packages > MAX_PACKAGES:
        raise Jt808Error(
            RejectReason.UNSUPPORTED, f"subpackages: {header.packages} packages, more than {MAX_PACKAGES} taken"
        )


def handling(msg_id: int) -> Handling:
    """What the gateway does with this message id; Jt808Error for one lienwatch does not handle."""
    found = UPLINK.get(msg_id)
    if found is None:
        raise Jt808Error(RejectReason.UNKNOWN_MESSAGE, f"message id 0x{msg_id:04x}: not handled")
    return found


def location_bodies(message: Uplink) -> list[bytes]:
    """The location report bodies a position-carrying message holds (none for other messages)."""
    msg_id = message.header.msg_id
    if msg_id == MessageId.LOCATION:
        return [message.body]
    if msg_id == MessageId.LOCATION_QUERY_RESPONSE:
        if len(message.body) < 2:
            raise FrameError("location query response: no answered serial")
        return [message.body[2:]]
    if msg_id == MessageId.BULK_LOCATION:
        return split_bulk(message.body)[1]
    return []


def fixes(message: Uplink, *, removal_bit: int | None = None) -> list[Item]:
    """Contract fields of each report in the message, or the error that disqualifies it alone."""
    if message.header.encryption:
        raise Jt808Error(RejectReason.UNSUPPORTED, f"body: encryption {message.header.encryption} (RSA) not supported")
    handling(message.header.msg_id)
    items: list[Item] = []
    for body in location_bodies(message):
        try:
            items.append(to_fix(parse_location(body), removal_bit=removal_bit))
        except Jt808Error as exc:
            items.append(exc)
    return items
