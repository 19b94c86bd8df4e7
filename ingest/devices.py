"""Device registration rows, as operators and installers give them (CSV or arguments)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from domain.assets import Device
from domain.ids import DeviceId, Vin
from domain.vocabulary import DeviceKind

CSV_FIELDS = ("device_id", "kind", "vin", "moving_interval_s", "parked_interval_s", "scheduled_interval_s")
_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:")


class DeviceRowError(ValueError):
    """A registration row names a bad field."""


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    error: str


def valid_device_id(value: str) -> DeviceId:
    """A device id usable inside an MQTT topic level: 1-64 of [A-Za-z0-9-_.:]."""
    if not 1 <= len(value) <= 64 or not set(value) <= _ID_CHARS:
        raise DeviceRowError(f"device_id: {value[:70]!r} must be 1-64 characters of A-Z a-z 0-9 - _ . :")
    return DeviceId(value)


def _interval(row: Mapping[str, str | None], name: str) -> int | None:
    raw = (row.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError as exc:
        raise DeviceRowError(f"{name}: {raw[:20]!r} is not a whole number of seconds") from exc
    if value <= 0:
        raise DeviceRowError(f"{name}: must be > 0 seconds, got {value}")
    return value


def parse_row(row: Mapping[str, str | None]) -> Device:
    """One device from a CSV row or CLI arguments, or DeviceRowError naming the field."""
    device_id = valid_device_id((row.get("device_id") or "").strip())
    kind_raw = (row.get("kind") or "").strip()
    try:
        kind = DeviceKind(kind_raw)
    except ValueError as exc:
        raise DeviceRowError(f"kind: {kind_raw[:20]!r} is not wired or wireless") from exc
    vin_raw = (row.get("vin") or "").strip()
    if vin_raw and not (vin_raw.isalnum() and len(vin_raw) <= 32):
        raise DeviceRowError(f"vin: {vin_raw[:40]!r} must be up to 32 letters and digits")
    return Device(
        device_id=device_id,
        kind=kind,
        vin=Vin(vin_raw) if vin_raw else None,
        moving_interval_s=_interval(row, "moving_interval_s"),
        parked_interval_s=_interval(row, "parked_interval_s"),
        scheduled_interval_s=_interval(row, "scheduled_interval_s"),
    )


def parse_rows(rows: Iterable[Mapping[str, str | None]], first_line: int = 2) -> tuple[list[Device], list[RowProblem]]:
    """Good devices and the problems of the bad rows, by line number (the header is line 1)."""
    good: list[Device] = []
    problems: list[RowProblem] = []
    for line, row in enumerate(rows, start=first_line):
        try:
            good.append(parse_row(row))
        except DeviceRowError as exc:
            problems.append(RowProblem(line, str(exc)))
    return good, problems
