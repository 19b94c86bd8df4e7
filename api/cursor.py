"""Opaque pagination cursors: a URL-safe base64 of the keyset values of the last row returned."""

import base64
import json
import math
from typing import Any

from api.errors import Unprocessable


def encode(*values: Any) -> str:
    """A cursor naming the last row of a page."""
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def decode(cursor: str, types: tuple[type, ...]) -> tuple[Any, ...]:
    """The keyset values in a cursor; a malformed one is a 422 naming the `cursor` field."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw, parse_constant=_refuse_constant)
        if not isinstance(values, list) or len(values) != len(types):
            raise ValueError("wrong shape")
        decoded = tuple(kind(value) for kind, value in zip(types, values, strict=True))
        # NaN and infinity compare oddly in SQL (NaN sorts above every number): no page starts there.
        if any(isinstance(v, float) and not math.isfinite(v) for v in decoded):
            raise ValueError("not a finite number")
        return decoded
    except (ValueError, TypeError) as exc:
        raise Unprocessable("cursor: not a cursor this API returned", field="cursor") from exc


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a cursor value")
