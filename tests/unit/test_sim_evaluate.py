"""Scoring alerts against labels: matches need kind, loan and an opening time inside the window."""

import pytest

from domain.vocabulary import AlertKind
from simulators.evaluate import AlertRow, evaluate
from simulators.labels import Label

T = 1_764_000_000


def lab(kind: AlertKind | None, loan: str, start: int, end: int) -> Label:
    return Label("s", kind, loan, "VIN", None, start, end, kind is None)


LABELS = [
    lab(AlertKind.TOW, "L1", T, T + 600),
    lab(AlertKind.TOW, "L2", T, T + 600),
    lab(AlertKind.RELOCATION, "L3", T, T + 3600),
    lab(None, "L4", T, T + 86_400),
]


def test_precision_recall_and_false_alert_rate() -> None:
    alerts = [
        AlertRow("tow", "L1", T + 600),  # on the window's end: a match
        AlertRow("tow", "L1", T + 300),  # a repeat on the same label is not a false alert
        AlertRow("tow", "L2", T + 601),  # one second late: false alert, and L2 is missed
        AlertRow("relocation", "L1", T + 10),  # right kind, wrong loan
        AlertRow("long_idle", "L4", T + 50),  # on a negative situation
    ]
    result = evaluate(LABELS, alerts, vehicles=50, days=4)
    tow = result.kinds["tow"]
    assert (tow.tp, tow.fp, tow.fn) == (1, 1, 1)
    assert tow.precision == pytest.approx(0.5) and tow.recall == pytest.approx(0.5)
    reloc = result.kinds["relocation"]
    assert (reloc.tp, reloc.fp, reloc.fn) == (0, 1, 1) and reloc.precision == 0.0 and reloc.recall == 0.0
    idle = result.kinds["long_idle"]
    assert (idle.tp, idle.fp, idle.fn) == (0, 1, 0) and idle.recall is None
    assert result.false_alerts == 3
    assert result.false_alerts_per_1000_vehicle_days == pytest.approx(15.0)  # 3 / 200 vehicle-days
    assert (result.negatives, result.negatives_alerted) == (1, 1)


def test_json_document_shape() -> None:
    doc = evaluate(LABELS, [AlertRow("tow", "L1", T)], vehicles=10, days=1).to_json()
    assert doc["kinds"]["tow"] == {"tp": 1, "fp": 0, "fn": 1, "precision": 1.0, "recall": 0.5}
    assert doc["kinds"]["relocation"] == {"tp": 0, "fp": 0, "fn": 1, "precision": None, "recall": 0.0}
    assert doc["false_alerts_per_1000_vehicle_days"] == 0.0
    assert set(doc) == {"kinds", "false_alerts_per_1000_vehicle_days", "negatives", "tolerated"}


def test_a_label_not_required_is_scored_neither_way() -> None:
    learning = Label("garage_nights", AlertKind.OFFLINE, "L5", "VIN", None, T, T + 3600, required=False)
    raised = evaluate([learning], [AlertRow("offline", "L5", T + 60)], vehicles=1, days=1.0)
    quiet = evaluate([learning], [], vehicles=1, days=1.0)
    assert (raised.false_alerts, raised.tolerated, raised.kinds) == (0, 1, {})
    assert (quiet.false_alerts, quiet.tolerated, quiet.kinds) == (0, 0, {})
    late = evaluate([learning], [AlertRow("offline", "L5", T + 3601)], vehicles=1, days=1.0)
    assert late.false_alerts == 1


def test_a_label_not_required_round_trips_and_an_old_file_still_reads() -> None:
    learning = Label("garage_nights", AlertKind.OFFLINE, "L5", "VIN", None, T, T + 3600, required=False)
    assert learning.to_dict()["required"] is False
    assert Label.from_dict(learning.to_dict()) == learning
    assert "required" not in LABELS[0].to_dict()
    assert Label.from_dict(LABELS[0].to_dict()).required is True
