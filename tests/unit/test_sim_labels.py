"""Labels are well-formed JSON lines that round-trip, and malformed ones are refused with the field named."""

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from domain.vocabulary import AlertKind
from simulators.labels import Label, LabelError, read_labels, write_labels
from simulators.simulation import SimConfig, simulate

FIELDS = {"scenario", "kind", "loan_id", "vin", "device_id", "start", "end", "negative"}


def test_simulated_labels_are_well_formed_and_round_trip(tmp_path: Path) -> None:
    sim = simulate(SimConfig(vehicles=40, days=5, seed=2, start=datetime(2026, 11, 2, tzinfo=UTC)))
    path = tmp_path / "labels.jsonl"
    # 14 positive, 6 negative, and 2 nights of garage_nights while they are learned
    assert write_labels(path, sim.labels) == len(sim.labels) == 22
    loans = {m.loan.loan_id: m for m in sim.fleet.members}
    for line in path.read_bytes().splitlines():
        obj = orjson.loads(line)
        assert set(obj) == FIELDS | ({"required"} if obj["scenario"] == "garage_nights" and obj["kind"] else set())
        assert obj["start"].endswith("Z") and obj["end"] >= obj["start"]
        assert obj["negative"] is (obj["kind"] is None)
        member = loans[obj["loan_id"]]
        assert obj["vin"] == member.vehicle.vin
        assert obj["device_id"] in {None, *(d.device_id for d in member.devices)}
        assert obj["kind"] is None or obj["kind"] in {k.value for k in AlertKind}
    assert read_labels(path) == list(sim.labels)
    kinds = {label.kind for label in sim.labels}
    assert kinds == {None} | set(AlertKind) - {AlertKind.TAMPER}


def test_label_windows_lie_within_the_run_except_absence_alerts() -> None:
    sim = simulate(SimConfig(vehicles=40, days=5, seed=2, start=datetime(2026, 11, 2, tzinfo=UTC)))
    for label in sim.labels:
        assert sim.fleet.start <= label.start
        if label.kind != AlertKind.OFFLINE:
            assert label.end <= sim.fleet.end


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "stolen"}, "kind: unknown alert kind"),
        ({"start": "yesterday"}, "start: not an ISO 8601 time"),
        ({"negative": True}, "a negative label has no kind"),
        ({"end": "2025-01-01T00:00:00Z"}, "before start"),
    ],
)
def test_bad_labels_are_refused_naming_the_field(tmp_path: Path, change: dict[str, object], message: str) -> None:
    good = Label("tow", AlertKind.TOW, "sim-LN000001", "LSVAB1234C0000001", None, 1_764_000_000, 1_764_000_600)
    obj = {**good.to_dict(), **change}
    path = tmp_path / "bad.jsonl"
    path.write_bytes(orjson.dumps(good.to_dict()) + b"\n" + orjson.dumps(obj) + b"\n")
    with pytest.raises(LabelError, match=message) as info:
        read_labels(path)
    assert ":2:" in str(info.value)
