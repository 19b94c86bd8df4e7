"""Turning storage rows into response bodies, applying the caller's masking rules."""

from dataclasses import asdict
from typing import Any

from api.auth import Principal
from api.policy import mask
from domain.vocabulary import Bucket
from storage.alert_queries import AlertRow
from storage.loans_admin import LoanRow


def alert(row: AlertRow) -> dict[str, Any]:
    """An alert as the API shows it (the loan's collector is not repeated)."""
    body = asdict(row)
    body.pop("assigned_collector")
    return body


def loan(row: LoanRow, who: Principal) -> dict[str, Any]:
    """A loan, with plate and borrower masked unless the caller's role may see them."""
    body = asdict(row)
    body["holds"] = [asdict(h) for h in row.holds]
    body["bucket"] = bucket(row.days_past_due)
    if not who.sees_identity:
        body["plate"] = mask(row.plate)
        body["borrower_name"] = mask(row.borrower_name)
    return body


def bucket(days_past_due: int) -> str:
    """The delinquency bucket label."""
    return Bucket.of(days_past_due).value
