"""Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>", sent as `t=<ts>,v1=<hex>`.

Signing the timestamp with the body lets a receiver refuse replays of old deliveries.
"""

import hashlib
import hmac

HEADER = "X-Lienwatch-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for this body at this time."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, *, now: int, tolerance_s: int = 300) -> bool:
    """True when the header signs this body with this secret, within tolerance_s of now."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)
