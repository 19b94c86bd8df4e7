"""Field encodings of JT/T 808: BCD digits (phone numbers, times) and the terminal's UTC+8 clock."""

from datetime import UTC, datetime, timedelta, timezone

from domain.vocabulary import RejectReason
from wire.jt808.errors import FrameError, Jt808Error

# Times in the standard are BCD[6] YY-MM-DD-hh-mm-ss in GMT+8 (JT/T 808-2013 table 23).
TERMINAL_TZ = timezone(timedelta(hours=8))


def bcd_digits(raw: bytes, field: str) -> str:
    """The decimal digits of a BCD field; a nibble above 9 is a broken frame."""
    text = raw.hex()
    if not text.isdigit():
        raise FrameError(f"{field}: {text!r} is not BCD")
    return text


def bcd_bytes(digits: str, size: int) -> bytes:
    """Digits as BCD of `size` bytes, left-padded with zeros."""
    if not digits.isdigit() or len(digits) > 2 * size:
        raise ValueError(f"bcd: {digits!r} is not at most {2 * size} decimal digits")
    return bytes.fromhex(digits.rjust(2 * size, "0"))


def terminal_time(digits: str) -> datetime:
    """A terminal's YYMMDDhhmmss (UTC+8) as an aware UTC datetime, or Jt808Error naming the time."""
    if len(digits) != 12 or not digits.isdigit():
        raise Jt808Error(RejectReason.BAD_TYPE, f"time: {digits[:20]!r} is not 12 BCD digits YYMMDDhhmmss")
    try:
        local = datetime(
            2000 + int(digits[0:2]),
            int(digits[2:4]),
            int(digits[4:6]),
            int(digits[6:8]),
            int(digits[8:10]),
            int(digits[10:12]),
            tzinfo=TERMINAL_TZ,
        )
    except ValueError as exc:
        raise Jt808Error(RejectReason.OUT_OF_RANGE, f"time: {digits!r} is not a calendar time ({exc})") from exc
    return local.astimezone(UTC)


def terminal_digits(moment: datetime) -> str:
    """An aware datetime as the terminal's YYMMDDhhmmss in UTC+8."""
    return moment.astimezone(TERMINAL_TZ).strftime("%y%m%d%H%M%S")
