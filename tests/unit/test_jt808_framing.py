"""JT/T 808 framing and header against frames built byte by byte from the standard's tables."""

import pytest

from tests.unit.jt808_bytes import PHONE_2013, PHONE_2019, escaped, frame, header, xor
from wire.jt808.errors import FrameError
from wire.jt808.framing import Deframer, check_code, escape, unescape, unwrap, wrap
from wire.jt808.header import Header, encode_packet, parse_packet


def test_a_heartbeat_frame_matches_its_bytes_from_the_standard() -> None:
    # 0x0002, properties 0 (empty body), phone 013912345678 as BCD[6], serial 1.
    content = bytes.fromhex("000200000139123456780001")
    code = 0x00 ^ 0x02 ^ 0x01 ^ 0x39 ^ 0x12 ^ 0x34 ^ 0x56 ^ 0x78 ^ 0x01
    raw = bytes.fromhex("7e000200000139123456780001") + bytes([code]) + b"\x7e"
    assert check_code(content) == code
    assert wrap(content) == raw
    assert unwrap(raw) == content


@pytest.mark.parametrize("special", [0x7E, 0x7D])
def test_escaping_at_every_position_of_the_frame(special: int) -> None:
    base = bytes(range(0x20, 0x40))
    for at in range(len(base)):
        content = base[:at] + bytes([special]) + base[at + 1 :]
        raw = wrap(content)
        assert raw == b"\x7e" + escaped(content + bytes([xor(content)])) + b"\x7e"
        assert raw.count(b"\x7e") == 2  # only the delimiters
        assert unwrap(raw) == content


@pytest.mark.parametrize("code", [0x7E, 0x7D])
def test_a_check_code_that_needs_escaping_is_escaped(code: int) -> None:
    content = bytes([0x01, code ^ 0x01])
    assert xor(content) == code
    raw = wrap(content)
    assert raw.endswith(escaped(bytes([code])) + b"\x7e")
    assert unwrap(raw) == content


def test_unescape_refuses_what_the_standard_does_not_define() -> None:
    assert unescape(b"\x01\x7d\x02\x7d\x01") == b"\x01\x7e\x7d"
    assert escape(b"\x7e\x7d") == b"\x7d\x02\x7d\x01"
    with pytest.raises(FrameError, match="0x7d followed by 0x03"):
        unescape(b"\x01\x7d\x03")
    with pytest.raises(FrameError, match="end of the frame"):
        unescape(b"\x01\x7d")


def test_a_wrong_check_code_is_a_frame_error_naming_both_codes() -> None:
    raw = bytearray(frame(0x0002, b""))
    raw[-2] ^= 0x01
    with pytest.raises(FrameError, match="check code"):
        unwrap(bytes(raw))


def test_header_2013_with_and_without_subpackage_items() -> None:
    body = b"\x11\x22\x33"
    packet = parse_packet(header(0x0200, 3, 0x1234) + body)
    assert packet.header == Header(0x0200, PHONE_2013, 0x1234, body_length=3)
    assert packet.header.edition == 2013 and not packet.header.subpackaged
    assert packet.body == body
    split = parse_packet(header(0x0704, 3, 7, package=(3, 2)) + body)
    assert (split.header.packages, split.header.index, split.header.subpackaged) == (3, 2, True)


def test_header_2019_has_a_version_byte_and_a_ten_byte_phone() -> None:
    content = header(0x0200, 0, 9, phone=PHONE_2019, version=1)
    assert len(content) == 17  # 2019 header without package items
    packet = parse_packet(content)
    assert packet.header.phone == PHONE_2019 and packet.header.version == 1 and packet.header.edition == 2019
    assert len(header(0x0200, 0, 9, phone=PHONE_2019, version=1, package=(2, 1))) == 21


def test_encode_packet_gives_the_standard_bytes() -> None:
    for kw in ({}, {"phone": PHONE_2019, "version": 1}, {"package": (4, 3)}):
        phone = str(kw.get("phone", PHONE_2013))
        version = kw.get("version")
        package = kw.get("package", (0, 0))
        assert isinstance(package, tuple)
        ours = Header(0x0704, phone, 513, version=version, packages=package[0], index=package[1])  # type: ignore[arg-type]
        assert encode_packet(ours, b"\xaa\xbb") == header(0x0704, 2, 513, **kw) + b"\xaa\xbb"  # type: ignore[arg-type]


def test_every_truncation_of_a_header_is_a_frame_error() -> None:
    for kw in ({}, {"phone": PHONE_2019, "version": 1}, {"package": (2, 1)}):
        content = header(0x0200, 0, 1, **kw)  # type: ignore[arg-type]
        for cut in range(len(content)):
            with pytest.raises(FrameError):
                parse_packet(content[:cut])


def test_body_length_must_match_the_properties_and_packages_must_be_possible() -> None:
    with pytest.raises(FrameError, match="header says 4 bytes, frame holds 3"):
        parse_packet(header(0x0200, 4, 1) + b"abc")
    with pytest.raises(FrameError, match="package 3 of 2"):
        parse_packet(header(0x0200, 0, 1, package=(2, 3)))
    with pytest.raises(FrameError, match="not BCD"):
        parse_packet(bytes.fromhex("020000000139123456ab0001"))


def test_deframer_gives_the_same_frames_whatever_the_tcp_segments() -> None:
    frames = [frame(0x0002, b"", serial=s) for s in range(3)] + [frame(0x0200, b"\x7e\x7d" * 5, serial=9)]
    stream = b"".join(frames)
    for cut in range(1, len(stream)):
        deframer = Deframer()
        assert deframer.feed(stream[:cut]) + deframer.feed(stream[cut:]) == frames
    one_byte = Deframer()
    assert [f for b in stream for f in one_byte.feed(bytes([b]))] == frames


def test_deframer_hands_out_stray_bytes_and_resynchronises() -> None:
    good = frame(0x0002, b"")
    deframer = Deframer()
    out = deframer.feed(b"junk" + good + b"\x7e\x01\x02\x7e" + good)
    assert out == [b"junk", good, b"\x7e\x01\x02\x7e", good]
    # A shared delimiter between two frames (7e A 7e B 7e) still gives both.
    shared = good[:-1] + good
    assert Deframer().feed(shared) == [good, good]


def test_deframer_cuts_an_endless_frame() -> None:
    deframer = Deframer(max_frame=64)
    out = deframer.feed(b"\x7e" + b"\x01" * 100)
    assert out == [b"\x7e" + b"\x01" * 100]
    assert deframer.feed(frame(0x0002, b"")) == [frame(0x0002, b"")]
    assert Deframer().feed(frame(0x0002, b"")[:-1]) == []
