-- The HTTP API's own tables: users and their bearer tokens (hashed), webhook subscriptions with
-- an outbox of deliveries and every attempt, and the log of commands sent to devices.

CREATE TABLE api_users (
    name        text PRIMARY KEY,
    role        text NOT NULL
                CHECK (role IN ('admin', 'supervisor', 'collector', 'integration', 'installer')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz
);

-- Only the SHA-256 of a token is kept; the token itself is printed once, at creation.
CREATE TABLE api_tokens (
    token_sha256  bytea PRIMARY KEY,
    user_name     text NOT NULL REFERENCES api_users (name),
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);

CREATE TABLE webhook_subscriptions (
    subscription_id  bigserial PRIMARY KEY,
    url              text NOT NULL,
    secret           text NOT NULL,
    -- Empty means every kind.
    kinds            text[] NOT NULL DEFAULT '{}',
    min_severity     text NOT NULL DEFAULT 'info'
                     CHECK (min_severity IN ('info', 'low', 'medium', 'high', 'critical')),
    created_by       text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    active           boolean NOT NULL DEFAULT true
);

-- The outbox: written in the same transaction as the alert change, so a crash or restart
-- loses no delivery; the worker claims due rows with a lease (locked_until).
CREATE TABLE webhook_deliveries (
    delivery_id      bigserial PRIMARY KEY,
    subscription_id  bigint NOT NULL REFERENCES webhook_subscriptions (subscription_id),
    alert_id         bigint NOT NULL,
    event            text NOT NULL,
    payload          jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    locked_until     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

CREATE TABLE webhook_attempts (
    attempt_id    bigserial PRIMARY KEY,
    delivery_id   bigint NOT NULL REFERENCES webhook_deliveries (delivery_id),
    at            timestamptz NOT NULL DEFAULT now(),
    status_code   integer,
    error         text,
    duration_ms   integer NOT NULL
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, attempt_id);

CREATE TABLE device_commands (
    command_id   bigserial PRIMARY KEY,
    device_id    text NOT NULL,
    command      text NOT NULL,
    payload      jsonb NOT NULL,
    actor        text NOT NULL,
    purpose      text NOT NULL,
    status       text NOT NULL CHECK (status IN ('sent', 'failed')),
    error        text,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX device_commands_device_idx ON device_commands (device_id, command_id);
