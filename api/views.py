"""Turning storage rows into response bodies, applying the caller's masking rules."""

from collections.abc import Mapping
from dataclasses import asdict, fields
from decimal import Decimal
from typing import Any

import orjson
from fastapi import Response

from api.auth import Principal
from api.policy import NO_LOAN, LocationAccess, mask
from domain.vocabulary import Bucket
from storage.alert_queries import AlertRow
from storage.loans import LoanRow

# Responses that carry a location: no browser, proxy or shared cache keeps a copy.
NO_STORE = {"Cache-Control": "no-store"}

_ALERT_FIELDS = tuple(f.name for f in fields(AlertRow) if f.name != "assigned_collector")


def alert(row: AlertRow) -> dict[str, Any]:
    """An alert as the API shows it (the loan's collector is not repeated)."""
    return {name: getattr(row, name) for name in _ALERT_FIELDS}


def _other(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_bytes(body: Any) -> bytes:
    """A body as JSON: datetimes in RFC 3339 with UTC written as Z, as the rest of the API writes them."""
    return orjson.dumps(body, default=_other, option=orjson.OPT_UTC_Z)


class JSONBody(Response):
    """A JSON response rendered straight from what the storage layer returned.

    The hot read paths (the queue, a track) return this instead of a dict, which FastAPI would
    validate against `dict[str, Any]` and encode a second time: that was most of the server's CPU
    per request. Their routes keep `response_model` so the documented schema is unchanged.
    """

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json_bytes(content)


def loan(row: LoanRow, who: Principal, access: Mapping[str, LocationAccess]) -> dict[str, Any]:
    """A loan, with plate and borrower masked unless the caller's role may see them, and its home
    point city-level unless its location may be read precisely (`access`, by loan id)."""
    body: dict[str, Any] = access.get(row.loan_id, NO_LOAN).shown(asdict(row))
    body["holds"] = [asdict(h) for h in row.holds]
    body["bucket"] = bucket(row.days_past_due)
    if not who.sees_identity:
        body["plate"] = mask(row.plate)
        body["borrower_name"] = mask(row.borrower_name)
    return body


def bucket(days_past_due: int) -> str:
    """The delinquency bucket label."""
    return Bucket.of(days_past_due).value
