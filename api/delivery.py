"""The webhook delivery worker: drains the outbox, signs, posts, records every attempt.

Deliveries are claimed under a lease, so two workers never send the same one at once and a
worker that dies mid-send leaves it to be retried when the lease runs out (at-least-once; the
X-Lienwatch-Delivery header lets receivers de-duplicate). A failed attempt is retried after a
doubling delay capped at `cap_s`; after `max_attempts` the delivery is marked failed.
"""

import asyncio
import contextlib
import http.client
import json
import logging
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass

from psycopg_pool import ConnectionPool

from api import signing
from api.targets import AllowList, Target, check
from storage import webhooks
from storage.database import Connection

log = logging.getLogger(__name__)

Sender = Callable[[str, bytes, dict[str, str], float], int]


@dataclass(frozen=True, slots=True)
class Backoff:
    base_s: float = 2.0
    cap_s: float = 600.0
    max_attempts: int = 15

    def delay(self, attempts_done: int) -> float | None:
        """Seconds until the next try after this many attempts; None means give up."""
        if attempts_done >= self.max_attempts:
            return None
        return float(min(self.cap_s, self.base_s * 2 ** max(0, attempts_done - 1)))


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to the address that was checked, whatever the name resolves to now."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(_PinnedHTTP):
    def connect(self) -> None:
        super().connect()
        # The certificate is still checked against the URL's host name.
        self.sock = ssl.create_default_context().wrap_socket(self.sock, server_hostname=self.host)


def poster(allow: AllowList) -> Sender:
    """A sender that checks the URL's addresses at this delivery (DNS rebinding) and connects to the
    checked one; a refused target raises TargetRefused, recorded as the attempt's error."""

    def post(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> int:
        target = check(url, allow)
        connection = (_PinnedHTTPS if target.scheme == "https" else _PinnedHTTP)(target, timeout_s)
        try:
            connection.request("POST", target.path, body=body, headers=headers)
            return int(connection.getresponse().status)  # non-2xx statuses are returned, not raised
        finally:
            connection.close()

    return post


def deliver_due(
    conn: Connection,
    *,
    backoff: Backoff = Backoff(),
    allow: AllowList = AllowList(),
    send: Sender | None = None,
    limit: int = 20,
    timeout_s: float = 10.0,
) -> int:
    """Attempt every due delivery once (conn in autocommit); returns how many were delivered."""
    send = send or poster(allow)
    delivered = 0
    # The lease outlasts the slowest possible pass, so no other worker takes a claimed delivery.
    lease_s = limit * timeout_s + 30.0
    for d in webhooks.claim_due(conn, limit=limit, lease_s=lease_s):
        body = json.dumps(d.payload, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "lienwatch-webhooks",
            "X-Lienwatch-Event": d.event,
            "X-Lienwatch-Delivery": str(d.delivery_id),
            signing.HEADER: signing.sign(d.secret, int(time.time()), body),
        }
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            status = send(d.url, body, headers, timeout_s)
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except (OSError, ValueError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"
        elapsed = int((time.monotonic() - started) * 1000)
        retry = None if error is None else backoff.delay(d.attempts + 1)
        with conn.transaction():
            webhooks.record_attempt(
                conn, d.delivery_id, status_code=status, error=error, duration_ms=elapsed, retry_in_s=retry
            )
        if error is None:
            delivered += 1
        else:
            log.info("webhook delivery %s to %s failed (%s); retry in %s s", d.delivery_id, d.url, error, retry)
    return delivered


async def run(
    pool: ConnectionPool[Connection],
    *,
    interval_s: float,
    backoff: Backoff,
    stop: asyncio.Event,
    allow: AllowList = AllowList(),
) -> None:
    """Drain the outbox every interval_s until `stop` is set (the app lifespan's task)."""

    def once() -> int:
        with pool.connection(timeout=5) as conn:
            return deliver_due(conn, backoff=backoff, allow=allow)

    while not stop.is_set():
        try:
            sent = await asyncio.to_thread(once)
        except Exception:  # the worker must outlive any one bad pass
            log.exception("webhook delivery pass failed")
            sent = 0
        if sent == 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval_s)
