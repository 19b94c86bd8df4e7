"""Webhook subscriptions and their outbox: deliveries written with the alert change, claimed
by the delivery worker under a lease, and every attempt recorded."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.vocabulary import Severity
from storage.database import Connection

SEVERITIES = tuple(Severity)  # in rising order, as the delivery query compares them


@dataclass(frozen=True, slots=True)
class Subscription:
    subscription_id: int
    url: str
    kinds: list[str]
    min_severity: str
    created_by: str
    created_at: datetime
    active: bool


@dataclass(frozen=True, slots=True)
class Delivery:
    delivery_id: int
    subscription_id: int
    url: str
    secret: str
    event: str
    payload: dict[str, Any]
    attempts: int


def subscribe(conn: Connection, *, url: str, secret: str, kinds: list[str], min_severity: str, actor: str) -> int:
    """Add a subscription; returns its id."""
    row = conn.execute(
        """
        INSERT INTO webhook_subscriptions (url, secret, kinds, min_severity, created_by)
        VALUES (%s, %s, %s, %s, %s)
        RETURNING subscription_id
        """,
        (url, secret, kinds, min_severity, actor),
    ).fetchone()
    assert row is not None
    return int(row[0])


def subscriptions(conn: Connection) -> list[Subscription]:
    """Active subscriptions, by id."""
    rows = conn.execute(
        """
        SELECT subscription_id, url, kinds, min_severity, created_by, created_at, active
          FROM webhook_subscriptions
         WHERE active
         ORDER BY subscription_id
        """
    ).fetchall()
    return [Subscription(*row) for row in rows]


def unsubscribe(conn: Connection, subscription_id: int) -> bool:
    """Deactivate a subscription (its pending deliveries still go out); False when unknown."""
    cur = conn.execute(
        "UPDATE webhook_subscriptions SET active = false WHERE subscription_id = %s AND active",
        (subscription_id,),
    )
    return cur.rowcount > 0


def enqueue_alert_event(conn: Connection, alert_id: int, event: str) -> int:
    """Queue `event` on this alert for every matching subscription; call inside the alert change's
    transaction so the change and its deliveries commit together. Returns deliveries queued."""
    cur = conn.execute(
        """
        INSERT INTO webhook_deliveries (subscription_id, alert_id, event, payload)
        SELECT s.subscription_id, a.alert_id, %(event)s::text,
               jsonb_build_object(
                   'event', %(event)s::text,
                   'alert', jsonb_build_object(
                       'alert_id', a.alert_id, 'kind', a.kind, 'severity', a.severity,
                       'loan_id', a.loan_id, 'vin', a.vin, 'subject', a.subject,
                       'status', a.status, 'disposition', a.disposition, 'assignee', a.assignee,
                       'priority', a.priority, 'hold_reason', a.hold_reason,
                       'opened_at', a.opened_at, 'last_seen_at', a.last_seen_at,
                       'closed_at', a.closed_at),
                   'at', now())
          FROM alerts a
          JOIN webhook_subscriptions s
            ON s.active
           AND (cardinality(s.kinds) = 0 OR a.kind = ANY(s.kinds))
           AND array_position(%(levels)s::text[], a.severity)
               >= array_position(%(levels)s::text[], s.min_severity)
         WHERE a.alert_id = %(alert_id)s
        """,
        {"event": event, "alert_id": alert_id, "levels": list(SEVERITIES)},
    )
    return cur.rowcount


def claim_due(conn: Connection, *, limit: int, lease_s: float) -> list[Delivery]:
    """Lease up to `limit` due deliveries; a crashed worker's lease expires and they are retried."""
    rows = conn.execute(
        """
        WITH due AS (
            SELECT delivery_id FROM webhook_deliveries
             WHERE status = 'pending'
               AND next_attempt_at <= now()
               AND (locked_until IS NULL OR locked_until < now())
             ORDER BY next_attempt_at, delivery_id
             LIMIT %(limit)s
             FOR UPDATE SKIP LOCKED)
        UPDATE webhook_deliveries d
           SET locked_until = now() + make_interval(secs => %(lease)s)
          FROM due, webhook_subscriptions s
         WHERE d.delivery_id = due.delivery_id AND s.subscription_id = d.subscription_id
        RETURNING d.delivery_id, d.subscription_id, s.url, s.secret, d.event, d.payload, d.attempts
        """,
        {"limit": limit, "lease": lease_s},
    ).fetchall()
    return sorted((Delivery(*row) for row in rows), key=lambda d: d.delivery_id)


def record_attempt(
    conn: Connection,
    delivery_id: int,
    *,
    status_code: int | None,
    error: str | None,
    duration_ms: int,
    retry_in_s: float | None,
) -> None:
    """Record one attempt; delivered on success, else due again in retry_in_s (None: give up)."""
    conn.execute(
        "INSERT INTO webhook_attempts (delivery_id, status_code, error, duration_ms) VALUES (%s, %s, %s, %s)",
        (delivery_id, status_code, error, duration_ms),
    )
    delivered = error is None
    conn.execute(
        """
        UPDATE webhook_deliveries
           SET attempts = attempts + 1,
               locked_until = NULL,
               status = CASE WHEN %(ok)s THEN 'delivered'
                             WHEN %(retry)s::float8 IS NULL THEN 'failed' ELSE 'pending' END,
               delivered_at = CASE WHEN %(ok)s THEN now() END,
               next_attempt_at = CASE WHEN %(retry)s::float8 IS NULL THEN next_attempt_at
                                      ELSE now() + make_interval(secs => %(retry)s) END
         WHERE delivery_id = %(id)s
        """,
        {"ok": delivered, "retry": retry_in_s, "id": delivery_id},
    )


def deliveries(conn: Connection, *, alert_id: int | None = None) -> list[dict[str, Any]]:
    """Deliveries (optionally of one alert) with their attempt counts, by id."""
    rows = conn.execute(
        """
        SELECT delivery_id, subscription_id, alert_id, event, status, attempts, delivered_at
          FROM webhook_deliveries
         WHERE %(alert)s::bigint IS NULL OR alert_id = %(alert)s
         ORDER BY delivery_id
        """,
        {"alert": alert_id},
    ).fetchall()
    keys = ("delivery_id", "subscription_id", "alert_id", "event", "status", "attempts", "delivered_at")
    return [dict(zip(keys, row, strict=True)) for row in rows]
