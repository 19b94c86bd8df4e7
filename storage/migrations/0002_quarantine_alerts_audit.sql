-- What the ingestor refused, what the detectors raised, and who read what.

CREATE TABLE quarantine (
    quarantine_id  bigserial PRIMARY KEY,
    received_at    timestamptz NOT NULL DEFAULT now(),
    topic          text NOT NULL,
    payload        bytea NOT NULL,
    reason         text NOT NULL,
    detail         text,
    device_id      text,
    replayed_at    timestamptz
);
CREATE INDEX quarantine_pending_idx ON quarantine (reason, quarantine_id) WHERE replayed_at IS NULL;

CREATE TABLE alerts (
    alert_id      bigserial PRIMARY KEY,
    kind          text NOT NULL,
    severity      text NOT NULL,
    loan_id       text REFERENCES loans (loan_id),
    vin           text,
    -- What the alert is about within the loan: a device id, a fence id, or '' for the vehicle.
    subject       text NOT NULL DEFAULT '',
    status        text NOT NULL DEFAULT 'open'
                  CHECK (status IN ('open', 'acknowledged', 'assigned', 'resolved', 'dismissed')),
    disposition   text CHECK (disposition IN ('confirmed', 'false_positive', 'install_issue', 'test', 'other')),
    assignee      text,
    priority      double precision NOT NULL DEFAULT 0,
    hold_reason   text,
    opened_at     timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    closed_at     timestamptz,
    close_reason  text,
    evidence      jsonb NOT NULL DEFAULT '{}'::jsonb,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- One live alert per (loan, kind, subject): repeats update it.
CREATE UNIQUE INDEX alerts_one_live_idx ON alerts (loan_id, kind, subject)
    WHERE status IN ('open', 'acknowledged', 'assigned');
CREATE INDEX alerts_queue_idx ON alerts (status, priority DESC, alert_id);

CREATE TABLE alert_history (
    history_id   bigserial PRIMARY KEY,
    alert_id     bigint NOT NULL REFERENCES alerts (alert_id),
    at           timestamptz NOT NULL DEFAULT now(),
    actor        text NOT NULL,
    event        text NOT NULL,
    from_status  text,
    to_status    text,
    note         text,
    data         jsonb
);
CREATE INDEX alert_history_alert_idx ON alert_history (alert_id, history_id);

-- Append-only: every read of a location, export and command, with who, when, what and why.
CREATE TABLE audit_log (
    audit_id      bigserial PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    actor         text NOT NULL,
    action        text NOT NULL,
    subject_type  text NOT NULL,
    subject_id    text NOT NULL,
    purpose       text,
    detail        jsonb
);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();

-- Small per-device detector state (aim < 1 KB), rebuildable from positions.
CREATE TABLE device_state (
    device_id   text PRIMARY KEY,
    last_ts     timestamptz,
    state       jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
