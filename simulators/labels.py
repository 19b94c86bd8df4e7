"""Ground-truth labels: which alert each scenario should raise (or must not), on which loan, and when.

One label per expected alert; a negative label (kind null) marks a situation that must raise
nothing. The window [start, end] is when the alert is expected to *open*. A label that is not
`required` marks an alert that may open or not (a device whose habits are still being learned):
it is scored neither way. Stored as JSON lines.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from domain.vocabulary import AlertKind

_FIELDS = ("scenario", "kind", "loan_id", "vin", "device_id", "start", "end", "negative")
_OPTIONAL = ("required",)


class LabelError(ValueError):
    """A labels file line that is not a well-formed label."""


def iso(t: int) -> str:
    """Epoch seconds as ISO 8601 UTC with a Z suffix."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class Label:
    scenario: str
    kind: AlertKind | None
    loan_id: str
    vin: str
    device_id: str | None
    start: int  # epoch seconds, UTC
    end: int
    negative: bool = False
    required: bool = True

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise LabelError(f"label {self.scenario}/{self.loan_id}: end {self.end} before start {self.start}")
        if self.negative != (self.kind is None):
            raise LabelError(f"label {self.scenario}/{self.loan_id}: a negative label has no kind and vice versa")
        if self.negative and not self.required:
            raise LabelError(f"label {self.scenario}/{self.loan_id}: a negative label is always required")

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of this label."""
        out: dict[str, Any] = {
            "scenario": self.scenario,
            "kind": None if self.kind is None else self.kind.value,
            "loan_id": self.loan_id,
            "vin": self.vin,
            "device_id": self.device_id,
            "start": iso(self.start),
            "end": iso(self.end),
            "negative": self.negative,
        }
        if not self.required:
            out["required"] = False
        return out

    @classmethod
    def from_dict(cls, obj: Any) -> "Label":
        """Parse one label object, naming the field that is wrong."""
        if not isinstance(obj, dict) or not set(_FIELDS) <= set(obj) <= {*_FIELDS, *_OPTIONAL}:
            raise LabelError(
                f"a label must be an object with the fields {', '.join(_FIELDS)}"
                f" (and optionally {', '.join(_OPTIONAL)})"
            )
        if not isinstance(obj.get("required", True), bool):
            raise LabelError("required: must be true or false")
        try:
            kind = None if obj["kind"] is None else AlertKind(obj["kind"])
        except ValueError as exc:
            raise LabelError(f"kind: unknown alert kind {obj['kind']!r}") from exc
        times = []
        for name in ("start", "end"):
            try:
                times.append(int(datetime.fromisoformat(obj[name]).timestamp()))
            except (TypeError, ValueError) as exc:
                raise LabelError(f"{name}: not an ISO 8601 time: {obj[name]!r}") from exc
        return cls(
            obj["scenario"],
            kind,
            obj["loan_id"],
            obj["vin"],
            obj["device_id"],
            times[0],
            times[1],
            bool(obj["negative"]),
            obj.get("required", True),
        )


def write_labels(path: Path, labels: Iterable[Label]) -> int:
    """Write labels as JSON lines; returns how many."""
    lines = [orjson.dumps(label.to_dict()) for label in labels]
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return len(lines)


def read_labels(path: Path) -> list[Label]:
    """Read a JSON-lines labels file."""
    labels = []
    for number, line in enumerate(path.read_bytes().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            labels.append(Label.from_dict(orjson.loads(line)))
        except (orjson.JSONDecodeError, LabelError) as exc:
            raise LabelError(f"{path}:{number}: {exc}") from exc
    return labels


def meta_path(labels_path: Path) -> Path:
    """The sidecar file describing the run a labels file came from (fleet size, days, id prefix)."""
    return labels_path.with_name(labels_path.name + ".meta.json")


def write_meta(labels_path: Path, meta: dict[str, Any]) -> None:
    """Write the run description next to the labels."""
    meta_path(labels_path).write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2))


def read_meta(labels_path: Path) -> dict[str, Any] | None:
    """The run description written with the labels, if there is one."""
    path = meta_path(labels_path)
    if not path.exists():
        return None
    meta = orjson.loads(path.read_bytes())
    if not isinstance(meta, dict):
        raise LabelError(f"{path}: not a JSON object")
    return meta
