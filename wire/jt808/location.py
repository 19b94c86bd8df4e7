"""Location reports (0x0200, 0x0201, 0x0704) and their mapping onto the wire contract's fields.

The basic information is 28 bytes (JT/T 808-2013 table 23): alarm flags DWORD, status DWORD,
latitude and longitude DWORD in 1e-6 degrees (hemisphere in status bits 2 and 3), altitude WORD
in metres, speed WORD in 0.1 km/h, direction WORD 0-359, time BCD[6] in UTC+8. Additional items
follow as id BYTE, length BYTE, value (table 27). The same mapping serves the native gateway and
EMQX's JSON (which carries the same integers), so both give the detectors identical fixes.
"""

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.vocabulary import DeviceAlarm, RejectReason
from wire.jt808.errors import FrameError, Jt808Error
from wire.jt808.fields import bcd_digits, terminal_time

_BASIC = struct.Struct(">IIIIHHH6s")
BASIC_SIZE = _BASIC.size  # 28

# Status bits (JT/T 808-2013 table 25).
ACC_ON = 1 << 0
POSITIONED = 1 << 1
SOUTH = 1 << 2
WEST = 1 << 3
COORDINATES_ENCRYPTED = 1 << 5

# Alarm flag bits (JT/T 808-2013 table 24, unchanged in 2019) that mean something to a lender.
ALARM_NAMES: dict[int, str] = {
    0: DeviceAlarm.SOS.value,  # emergency alarm
    # A GNSS module fault is what a jammer in the car looks like to the terminal: every satellite
    # lost at once while the module itself is fine. The raw flags stay with the fix for review.
    4: DeviceAlarm.JAMMING.value,
    5: DeviceAlarm.TAMPER.value,  # GNSS antenna not connected or cut
    6: DeviceAlarm.TAMPER.value,  # GNSS antenna short-circuited
    7: DeviceAlarm.LOW_BATTERY.value,  # terminal main power under-voltage
    8: DeviceAlarm.POWER_CUT.value,  # terminal main power off
    26: "stolen",  # vehicle stolen (reported by the vehicle's anti-theft device)
    28: "illegal_move",  # illegal displacement: the car moved while parked
}

# Additional items (table 27) read into the fix.
ITEM_MILEAGE = 0x01  # DWORD, 0.1 km
ITEM_RSSI = 0x30  # BYTE, wireless signal strength
ITEM_SATELLITES = 0x31  # BYTE, GNSS satellites in use
_ITEM_SIZES = {ITEM_MILEAGE: 4, ITEM_RSSI: 1, ITEM_SATELLITES: 1}


@dataclass(frozen=True, slots=True)
class LocationReport:
    """The integers of one report as the terminal sent them."""

    alarm: int
    status: int
    lat_e6: int
    lon_e6: int
    altitude_m: int
    speed_e1: int  # 0.1 km/h
    direction: int
    time: str  # YYMMDDhhmmss, UTC+8
    mileage_e1: int | None = None  # 0.1 km
    rssi: int | None = None
    satellites: int | None = None


def parse_location(body: bytes) -> LocationReport:
    """A location report body: the 28 basic bytes and the additional items lienwatch reads."""
    if len(body) < BASIC_SIZE:
        raise FrameError(f"location: {len(body)} bytes, the basic information needs {BASIC_SIZE}")
    alarm, status, lat, lon, altitude, speed, direction, time_raw = _BASIC.unpack_from(body)
    items: dict[int, int] = {}
    at = BASIC_SIZE
    while at < len(body):
        if at + 2 > len(body):
            raise FrameError(f"additional item at byte {at}: truncated before its length")
        item, size = body[at], body[at + 1]
        value = body[at + 2 : at + 2 + size]
        if len(value) != size:
            raise FrameError(f"additional item 0x{item:02x}: says {size} bytes, {len(value)} left")
        expected = _ITEM_SIZES.get(item)
        if expected is not None:
            if size != expected:
                raise Jt808Error(
                    RejectReason.BAD_TYPE, f"additional item 0x{item:02x}: {size} bytes, the standard says {expected}"
                )
            items[item] = int.from_bytes(value, "big")
        at += 2 + size
    return LocationReport(
        alarm=alarm,
        status=status,
        lat_e6=lat,
        lon_e6=lon,
        altitude_m=altitude,
        speed_e1=speed,
        direction=direction,
        time=bcd_digits(time_raw, "time"),
        mileage_e1=items.get(ITEM_MILEAGE),
        rssi=items.get(ITEM_RSSI),
        satellites=items.get(ITEM_SATELLITES),
    )


def split_bulk(body: bytes) -> tuple[int, list[bytes]]:
    """A bulk upload (0x0704): its type (0 normal batch, 1 blind-area backfill) and each item's body."""
    if len(body) < 3:
        raise FrameError(f"bulk location: {len(body)} bytes, too short for count and type")
    count, kind = struct.unpack_from(">HB", body)
    items: list[bytes] = []
    at = 3
    for n in range(count):
        if at + 2 > len(body):
            raise FrameError(f"bulk location: item {n} of {count} missing")
        (size,) = struct.unpack_from(">H", body, at)
        item = body[at + 2 : at + 2 + size]
        if len(item) != size:
            raise FrameError(f"bulk location: item {n} says {size} bytes, {len(item)} left")
        items.append(item)
        at += 2 + size
    if at != len(body):
        raise FrameError(f"bulk location: {len(body) - at} byte(s) after the {count} items")
    return kind, items


def alarm_names(alarm: int, removal_bit: int | None = None) -> list[str]:
    """The project's alarm names for a flag word; `removal_bit` is the vendor's removal flag, if any."""
    names: list[str] = []
    for bit, name in ALARM_NAMES.items():
        if alarm >> bit & 1 and name not in names:
            names.append(name)
    if removal_bit is not None and alarm >> removal_bit & 1 and DeviceAlarm.REMOVAL not in names:
        names.append(DeviceAlarm.REMOVAL.value)
    return names


def accuracy_hint(satellites: int | None) -> float | None:
    """A horizontal accuracy guess from the satellites in use (the standard carries no HDOP).

    Under four satellites a receiver has no 3D solution: the fix is taken as coarse (> 500 m), so it
    never decides a fence crossing. Four or five give a usable fix; six and more a good one.
    """
    if satellites is None:
        return None
    if satellites < 4:
        return 1000.0
    if satellites < 6:
        return 50.0
    return 15.0


def to_fix(report: LocationReport, *, removal_bit: int | None = None) -> dict[str, Any]:
    """The report as wire-contract fields, for the one validation every fix goes through.

    Jt808Error when the terminal says it has no fix (an unpositioned report is never a position)
    or the coordinates are encrypted; range checks are the contract's own.
    """
    if not report.status & POSITIONED:
        raise Jt808Error(RejectReason.NO_FIX, "status: bit 1 clear, the terminal is not positioned")
    if report.status & COORDINATES_ENCRYPTED:
        raise Jt808Error(RejectReason.UNSUPPORTED, "status: bit 5 set, latitude and longitude are encrypted")
    lat = report.lat_e6 / 1e6
    lon = report.lon_e6 / 1e6
    fix: dict[str, Any] = {
        "ts": terminal_time(report.time).timestamp(),
        "lat": -lat if report.status & SOUTH else lat,
        "lon": -lon if report.status & WEST else lon,
        "speed_kmh": report.speed_e1 / 10,
        "heading": report.direction,
        "ignition": bool(report.status & ACC_ON),
        "altitude_m": report.altitude_m,
    }
    accuracy = accuracy_hint(report.satellites)
    if accuracy is not None:
        fix["accuracy_m"] = accuracy
        fix["satellites"] = report.satellites
    alarms = alarm_names(report.alarm, removal_bit)
    if alarms:
        fix["alarms"] = alarms
    if report.alarm:
        fix["alarm_flags"] = report.alarm  # the raw word, for whoever reviews the alert
    if report.mileage_e1 is not None:
        fix["mileage_km"] = report.mileage_e1 / 10
    if report.rssi is not None:
        fix["rssi"] = report.rssi
    return fix


def from_json(body: Mapping[str, Any]) -> LocationReport:
    """EMQX's JSON of a location report (same integers; `extra` holds the additional items)."""
    extra = body.get("extra")
    if extra is not None and not isinstance(extra, Mapping):
        raise Jt808Error(RejectReason.BAD_TYPE, "body.extra: expected an object")
    extra = extra or {}
    values: dict[str, int] = {}
    for name in ("alarm", "status", "latitude", "longitude", "altitude", "speed", "direction"):
        value = body.get(name)
        if value is None:
            raise Jt808Error(RejectReason.MISSING_FIELD, f"body.{name}: required")
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**32:
            raise Jt808Error(RejectReason.BAD_TYPE, f"body.{name}: expected an unsigned integer")
        values[name] = value
    time = body.get("time")
    if not isinstance(time, str):
        raise Jt808Error(RejectReason.MISSING_FIELD if time is None else RejectReason.BAD_TYPE, "body.time: BCD string")
    return LocationReport(
        alarm=values["alarm"],
        status=values["status"],
        lat_e6=values["latitude"],
        lon_e6=values["longitude"],
        altitude_m=values["altitude"],
        speed_e1=values["speed"],
        direction=values["direction"],
        time=time,
        mileage_e1=_optional_int(extra, "mileage"),
        rssi=_optional_int(extra, "rssi"),
        satellites=_optional_int(extra, "gnss_sat_num"),
    )


def _optional_int(extra: Mapping[str, Any], name: str) -> int | None:
    value = extra.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise Jt808Error(RejectReason.BAD_TYPE, f"body.extra.{name}: expected an unsigned integer")
    return value


def encode_location(report: LocationReport) -> bytes:
    """A report as a 0x0200 body (the simulator's and the platform tests' encoder)."""
    body = _BASIC.pack(
        report.alarm,
        report.status,
        report.lat_e6,
        report.lon_e6,
        report.altitude_m,
        report.speed_e1,
        report.direction,
        bytes.fromhex(report.time),
    )
    if report.mileage_e1 is not None:
        body += struct.pack(">BBI", ITEM_MILEAGE, 4, report.mileage_e1)
    if report.rssi is not None:
        body += struct.pack(">BBB", ITEM_RSSI, 1, report.rssi)
    if report.satellites is not None:
        body += struct.pack(">BBB", ITEM_SATELLITES, 1, report.satellites)
    return body
