"""Opaque pagination cursors: a URL-safe base64 of the keyset values of the last row returned."""

import base64
import json
from typing import Any

from api.errors import Unprocessable


def encode(*values: Any) -> str:
    """A cursor naming the last row of a page."""
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def decode(cursor: str, types: tuple[type, ...]) -> tuple[Any, ...]:
    """The keyset values in a cursor; a malformed one is a 422 naming the `cursor` field."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(types):
            raise ValueError("wrong shape")
        return tuple(kind(value) for kind, value in zip(types, values, strict=True))
    except (ValueError, TypeError) as exc:
        raise Unprocessable("cursor: not a cursor this API returned", field="cursor") from exc
