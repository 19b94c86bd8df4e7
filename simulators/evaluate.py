"""Scoring raised alerts against ground-truth labels: precision and recall per kind, false-alert rate.

An alert matches a positive label when kind and loan agree and it opened inside the label's window.
A label matched by at least one alert is a true positive; a positive label matched by none is a
false negative; an alert matching no positive label is a false positive (a "false alert"). A
label that is not required (the alert may open or not) is scored neither way: an alert it
matches is counted as tolerated.
Pure: the CLI reads the alerts table and hands rows in.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from simulators.labels import Label


@dataclass(frozen=True, slots=True)
class AlertRow:
    kind: str
    loan_id: str | None
    opened_at: int  # epoch seconds


@dataclass(frozen=True, slots=True)
class KindScore:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float | None:
        """tp / (tp + fp); None when nothing was raised."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        """tp / (tp + fn); None when nothing was expected."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


@dataclass(frozen=True, slots=True)
class Evaluation:
    kinds: dict[str, KindScore]
    false_alerts: int
    vehicle_days: float
    negatives: int
    negatives_alerted: int
    tolerated: int = 0

    @property
    def false_alerts_per_1000_vehicle_days(self) -> float:
        return 1000.0 * self.false_alerts / self.vehicle_days if self.vehicle_days > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        """The --json document: per-kind scores and the false-alert rate (plus negatives alerted)."""
        return {
            "kinds": {
                kind: {"tp": s.tp, "fp": s.fp, "fn": s.fn, "precision": s.precision, "recall": s.recall}
                for kind, s in sorted(self.kinds.items())
            },
            "false_alerts_per_1000_vehicle_days": self.false_alerts_per_1000_vehicle_days,
            "negatives": {"total": self.negatives, "alerted": self.negatives_alerted},
            "tolerated": self.tolerated,
        }


# A label opens when the simulated car itself does the thing; a fix's error can show it a few
# seconds earlier (a noisy fix reads outside the region before the car crosses), and the alert is
# dated at that fix: an alert this soon before its label still matches it.
EARLY_S = 60


def _matches(alert: AlertRow, label: Label) -> bool:
    return (
        label.kind is not None
        and alert.kind == label.kind.value
        and alert.loan_id == label.loan_id
        and label.start - EARLY_S <= alert.opened_at <= label.end
    )


def evaluate(labels: Sequence[Label], alerts: Iterable[AlertRow], *, vehicles: int, days: float) -> Evaluation:
    """Score alerts against labels over a fleet of `vehicles` simulated for `days`."""
    positives = [label for label in labels if not label.negative and label.required]
    optional = [label for label in labels if not label.required]
    negatives = [label for label in labels if label.negative]
    matched: set[int] = set()
    fp: dict[str, int] = {}
    tolerated = 0
    alert_list = list(alerts)
    by_key: dict[tuple[str, str], list[int]] = {}
    for i, label in enumerate(positives):
        if label.kind is not None:
            by_key.setdefault((label.kind.value, label.loan_id), []).append(i)
    for alert in alert_list:
        candidates = by_key.get((alert.kind, alert.loan_id or ""), [])
        hits = [i for i in candidates if _matches(alert, positives[i])]
        if hits:
            matched.update(hits)
        elif any(_matches(alert, label) for label in optional):
            tolerated += 1
        else:
            fp[alert.kind] = fp.get(alert.kind, 0) + 1
    kinds: dict[str, KindScore] = {}
    names = {label.kind.value for label in positives if label.kind is not None} | set(fp)
    for kind in names:
        expected = [i for i, label in enumerate(positives) if label.kind is not None and label.kind.value == kind]
        tp = sum(1 for i in expected if i in matched)
        kinds[kind] = KindScore(tp, fp.get(kind, 0), len(expected) - tp)
    alerted = sum(
        1
        for label in negatives
        if any(a.loan_id == label.loan_id and label.start <= a.opened_at <= label.end for a in alert_list)
    )
    return Evaluation(kinds, sum(fp.values()), float(vehicles) * days, len(negatives), alerted, tolerated)
