"""The message header, 2013 and 2019 editions (JT/T 808-2013 table 2; JT/T 808-2019 table 2).

2013: id WORD, properties WORD, phone BCD[6], serial WORD [, packages WORD, index WORD].
2019: id WORD, properties WORD (bit 14 set), protocol version BYTE, phone BCD[10], serial WORD
[, packages WORD, index WORD]. Properties: bits 0-9 body length, 10-12 encryption (bit 10 RSA),
bit 13 subpackaged, bit 14 the 2019 version flag.
"""

import struct
from dataclasses import dataclass

from wire.jt808.errors import FrameError
from wire.jt808.fields import bcd_bytes, bcd_digits

MAX_BODY = 0x3FF
_LENGTH = 0x03FF
_ENCRYPTION = 0x1C00
_SUBPACKAGED = 0x2000
_VERSIONED = 0x4000


@dataclass(frozen=True, slots=True)
class Header:
    msg_id: int
    phone: str  # 12 digits (2013) or 20 (2019), as the terminal sent them: its device id here
    serial: int
    body_length: int = 0
    encryption: int = 0  # bits 10-12 of the properties: 0 none, 1 RSA
    version: int | None = None  # the 2019 protocol version byte; None for the 2013 edition
    packages: int = 0  # total packages of a subpackaged message (0: not subpackaged)
    index: int = 0  # this package's number, from 1

    @property
    def subpackaged(self) -> bool:
        """True when the body is one package of a longer message."""
        return self.packages > 0

    @property
    def edition(self) -> int:
        """2013 or 2019."""
        return 2013 if self.version is None else 2019


@dataclass(frozen=True, slots=True)
class Packet:
    header: Header
    body: bytes


def parse_packet(content: bytes) -> Packet:
    """Header and body of an unwrapped frame; FrameError when the header or the length is wrong."""
    if len(content) < 4:
        raise FrameError(f"header: {len(content)} bytes, too short for id and properties")
    msg_id, props = struct.unpack_from(">HH", content)
    at = 4
    version: int | None = None
    if props & _VERSIONED:
        phone_size = 10
        if len(content) < at + 1:
            raise FrameError("header: truncated before the protocol version")
        version = content[at]
        at += 1
    else:
        phone_size = 6
    if len(content) < at + phone_size + 2:
        raise FrameError(f"header: truncated inside the {phone_size}-byte phone number or serial")
    phone = bcd_digits(content[at : at + phone_size], "phone")
    at += phone_size
    (serial,) = struct.unpack_from(">H", content, at)
    at += 2
    packages = index = 0
    if props & _SUBPACKAGED:
        if len(content) < at + 4:
            raise FrameError("header: subpackage flag set but package items truncated")
        packages, index = struct.unpack_from(">HH", content, at)
        at += 4
        if packages == 0 or not 1 <= index <= packages:
            raise FrameError(f"header: package {index} of {packages} is impossible")
    length = props & _LENGTH
    body = content[at:]
    if len(body) != length:
        raise FrameError(f"body: header says {length} bytes, frame holds {len(body)}")
    header = Header(
        msg_id=msg_id,
        phone=phone,
        serial=serial,
        body_length=length,
        encryption=(props & _ENCRYPTION) >> 10,
        version=version,
        packages=packages,
        index=index,
    )
    return Packet(header, body)


def encode_packet(header: Header, body: bytes) -> bytes:
    """Header (its length taken from the body) and body, ready for framing.wrap()."""
    if len(body) > MAX_BODY:
        raise ValueError(f"body: {len(body)} bytes exceeds {MAX_BODY}; subpackage it")
    props = len(body) | (header.encryption << 10)
    if header.subpackaged:
        props |= _SUBPACKAGED
    if header.version is not None:
        props |= _VERSIONED
        head = struct.pack(">HHB", header.msg_id, props, header.version) + bcd_bytes(header.phone, 10)
    else:
        head = struct.pack(">HH", header.msg_id, props) + bcd_bytes(header.phone, 6)
    head += struct.pack(">H", header.serial & 0xFFFF)
    if header.subpackaged:
        head += struct.pack(">HH", header.packages, header.index)
    return head + body
