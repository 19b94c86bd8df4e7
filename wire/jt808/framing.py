"""Frames on the wire: 0x7e delimiters, 0x7d escaping and the XOR check code (JT/T 808 §4.4, §5).

A frame is 0x7e, the escaped header + body + check code, 0x7e. Inside, 0x7e is sent as 0x7d 0x02
and 0x7d as 0x7d 0x01; the check code is the XOR of every header and body byte. `Deframer`
cuts a byte stream into raw frames without judging them, so one terminal's garbage costs one
quarantine row and resynchronises on the next delimiter.
"""

from functools import reduce
from operator import xor

from wire.jt808.errors import FrameError

FLAG = 0x7E
ESCAPE = 0x7D
_FLAG = b"\x7e"
# Largest escaped frame: a 21-byte 2019 header with subpackage items, a 1023-byte body and the
# check code, every byte escaped, and the two flags.
MAX_FRAME_BYTES = 2 * (21 + 1023 + 1) + 2


def check_code(content: bytes) -> int:
    """The XOR of all bytes of header and body."""
    return reduce(xor, content, 0)


def escape(data: bytes) -> bytes:
    """0x7d -> 0x7d 0x01, then 0x7e -> 0x7d 0x02 (the order keeps the second from being re-escaped)."""
    return data.replace(b"\x7d", b"\x7d\x01").replace(b"\x7e", b"\x7d\x02")


def unescape(data: bytes) -> bytes:
    """Undo escape(); 0x7d followed by anything but 0x01 / 0x02 is a broken frame."""
    if b"\x7d" not in data:
        return data
    parts = data.split(b"\x7d")
    out = bytearray(parts[0])
    for part in parts[1:]:
        if not part or part[0] not in (1, 2):
            follow = f"0x{part[0]:02x}" if part else "the end of the frame"
            raise FrameError(f"escape: 0x7d followed by {follow}")
        out.append(ESCAPE if part[0] == 1 else FLAG)
        out += part[1:]
    return bytes(out)


def wrap(content: bytes) -> bytes:
    """Header + body as a frame: check code appended, escaped, delimited."""
    return _FLAG + escape(content + bytes((check_code(content),))) + _FLAG


def unwrap(raw: bytes) -> bytes:
    """A raw frame's header + body, its delimiters, escaping and check code verified."""
    if len(raw) < 2 or raw[0] != FLAG or raw[-1] != FLAG:
        raise FrameError("frame: not delimited by 0x7e")
    data = unescape(raw[1:-1])
    if len(data) < 2:
        raise FrameError(f"frame: {len(data)} byte(s) between the delimiters")
    content, code = data[:-1], data[-1]
    expected = check_code(content)
    if code != expected:
        raise FrameError(f"check code: frame says 0x{code:02x}, content gives 0x{expected:02x}")
    return content


class Deframer:
    """Cuts a TCP byte stream into raw frames (delimiters kept) and stray bytes between them."""

    def __init__(self, max_frame: int = MAX_FRAME_BYTES) -> None:
        self._buffer = bytearray()
        self._opened = False  # a 0x7e was seen and its frame is not finished
        self._max = max_frame

    def feed(self, data: bytes) -> list[bytes]:
        """Raw frames completed by these bytes, in order; bytes outside any frame come out alone."""
        self._buffer += data
        out: list[bytes] = []
        buffer = self._buffer
        while buffer:
            at = buffer.find(FLAG)
            if not self._opened:
                if at < 0:
                    if len(buffer) > self._max:  # noise with no delimiter at all
                        out.append(bytes(buffer))
                        buffer.clear()
                    break
                if at > 0:
                    out.append(bytes(buffer[:at]))
                del buffer[: at + 1]
                self._opened = True
                continue
            if at < 0:
                if len(buffer) > self._max:  # a start flag whose end never came
                    out.append(_FLAG + bytes(buffer))
                    buffer.clear()
                    self._opened = False
                break
            if at > 0:
                out.append(_FLAG + bytes(buffer[:at]) + _FLAG)
            # Two flags in a row end one frame and open the next; the closing flag stays "open"
            # so a terminal sharing one flag between frames is read correctly too.
            del buffer[: at + 1]
        return out

    def pending(self) -> bytes:
        """Bytes of an unfinished frame (what a closed connection leaves behind)."""
        if not self._buffer:
            return b""
        return (_FLAG if self._opened else b"") + bytes(self._buffer)
