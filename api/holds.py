"""What a legal hold in force stops: the steps of a recovery against the borrower.

While a hold is in force (a bankruptcy's automatic stay, servicemember protection, a dispute
under review, a promise to pay until its date) nobody, whatever their role, assigns the loan's
alerts for recovery, resolves one as a confirmed recovery, or sends the car's trackers a locate
or chase command; its precise location and track are withheld (api.policy). Acknowledging,
dismissing and resolving with another disposition stay allowed: they keep the record straight
without acting on the borrower.
"""

from api.errors import LegalHoldInForce
from domain.vocabulary import Disposition


def is_adverse(event: str, disposition: Disposition | None) -> bool:
    """True when this alert transition acts on the borrower (a recovery step)."""
    return event == "assign" or (event == "resolve" and disposition == Disposition.CONFIRMED)


def refuse_if_held(hold: str | None, action: str) -> None:
    """409 naming the hold when one is in force."""
    if hold:
        raise LegalHoldInForce(
            f"{action} is not allowed while a legal hold is in force on the loan ({hold})", hold=hold
        )
