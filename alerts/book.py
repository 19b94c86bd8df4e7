"""An alerts table in memory: the judge's actions applied as the shell applies them to PostgreSQL.

One live alert per (loan, kind, subject); a draft for a live key refreshes it (its evidence is
the latest, its opening stays), a clear closes it. Replays of history (alerts.replay) and tests
keep their alerts here, so a run with no database can be compared with one through it.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alerts.actions import Action, AlertDraft
from domain.ids import LoanId
from domain.vocabulary import AlertKind, Severity


@dataclass(slots=True)
class BookedAlert:
    kind: AlertKind
    loan_id: LoanId
    subject: str
    severity: Severity
    opened_at: datetime
    evidence: dict[str, Any]
    occurrences: int = 1
    closed_at: datetime | None = None
    close_reason: str | None = None

    @property
    def live(self) -> bool:
        return self.closed_at is None


class AlertBook:
    """Alerts in the order they opened."""

    def __init__(self) -> None:
        self.alerts: list[BookedAlert] = []
        self._live: dict[tuple[LoanId, AlertKind, str], BookedAlert] = {}

    def apply(self, actions: Iterable[Action]) -> None:
        """Open, refresh or close alerts as the actions say."""
        for action in actions:
            key = (action.loan_id, action.kind, action.subject)
            live = self._live.get(key)
            if isinstance(action, AlertDraft):
                if live is None:
                    opened = BookedAlert(
                        action.kind, action.loan_id, action.subject, action.severity, action.at, action.evidence
                    )
                    self.alerts.append(opened)
                    self._live[key] = opened
                else:
                    live.severity = action.severity
                    live.occurrences += 1
                    live.evidence = action.evidence
            elif live is not None:
                live.closed_at, live.close_reason = action.at, action.reason
                del self._live[key]
