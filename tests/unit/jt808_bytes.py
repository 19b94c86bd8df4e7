"""JT/T 808 frames built byte by byte from the standard's field tables, independent of ingest.jt808."""

PHONE_2013 = "013912345678"
PHONE_2019 = "00000000013912345678"


def bcd(digits: str, size: int) -> bytes:
    digits = digits.rjust(2 * size, "0")
    return bytes(int(digits[i]) << 4 | int(digits[i + 1]) for i in range(0, len(digits), 2))


def xor(data: bytes) -> int:
    code = 0
    for b in data:
        code ^= b
    return code


def escaped(data: bytes) -> bytes:
    out = bytearray()
    for b in data:
        if b == 0x7E:
            out += b"\x7d\x02"
        elif b == 0x7D:
            out += b"\x7d\x01"
        else:
            out.append(b)
    return bytes(out)


def header(
    msg_id: int,
    body_length: int,
    serial: int,
    *,
    phone: str = PHONE_2013,
    version: int | None = None,
    package: tuple[int, int] | None = None,
    encryption: int = 0,
) -> bytes:
    """Table 2: id WORD, properties WORD, [version BYTE], phone BCD[6|10], serial WORD, [total, index]."""
    props = body_length | encryption << 10 | (1 << 13 if package else 0) | (1 << 14 if version is not None else 0)
    out = msg_id.to_bytes(2, "big") + props.to_bytes(2, "big")
    if version is not None:
        out += bytes([version]) + bcd(phone, 10)
    else:
        out += bcd(phone, 6)
    out += serial.to_bytes(2, "big")
    if package:
        out += package[0].to_bytes(2, "big") + package[1].to_bytes(2, "big")
    return out


def frame(msg_id: int, body: bytes, serial: int = 1, **kw: object) -> bytes:
    content = header(msg_id, len(body), serial, **kw) + body  # type: ignore[arg-type]
    return b"\x7e" + escaped(content + bytes([xor(content)])) + b"\x7e"


def location(
    *,
    alarm: int = 0,
    status: int = 0b11,  # ACC on, positioned
    lat: int = 31_230_416,
    lon: int = 121_473_701,
    altitude: int = 12,
    speed: int = 456,  # 45.6 km/h
    direction: int = 270,
    time: str = "261203120000",  # 2026-12-03 12:00:00 UTC+8 = 04:00 UTC
    items: bytes = b"",
) -> bytes:
    """Table 23: alarm DWORD, status DWORD, lat DWORD, lon DWORD, altitude WORD, speed WORD,
    direction WORD, time BCD[6]; then additional items id BYTE, length BYTE, value (table 27)."""
    return (
        alarm.to_bytes(4, "big")
        + status.to_bytes(4, "big")
        + lat.to_bytes(4, "big")
        + lon.to_bytes(4, "big")
        + altitude.to_bytes(2, "big")
        + speed.to_bytes(2, "big")
        + direction.to_bytes(2, "big")
        + bcd(time, 6)
        + items
    )


def item(item_id: int, value: bytes) -> bytes:
    return bytes([item_id, len(value)]) + value


def bulk(reports: list[bytes], kind: int = 0) -> bytes:
    """0x0704: count WORD, type BYTE (0 normal, 1 blind-area backfill), items of length WORD + report."""
    return len(reports).to_bytes(2, "big") + bytes([kind]) + b"".join(len(r).to_bytes(2, "big") + r for r in reports)
