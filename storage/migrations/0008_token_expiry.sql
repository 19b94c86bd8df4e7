-- Bearer tokens expire: each carries its own expiry, set when it is issued from
-- LIENWATCH_TOKEN_TTL_DAYS. Tokens issued before this step had none; they get the default
-- period (90 days) from their creation, so a long-lived one stops working now.
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;
UPDATE api_tokens SET expires_at = created_at + INTERVAL '90 days' WHERE expires_at IS NULL;
ALTER TABLE api_tokens ALTER COLUMN expires_at SET NOT NULL;
CREATE INDEX api_tokens_user_idx ON api_tokens (user_name);

-- A user has a name: an admin called '' or '   ' cannot be told apart in the audit log.
-- NOT VALID: rows from before are left for an operator to rename; every new one is checked.
ALTER TABLE api_users ADD CONSTRAINT api_users_name_present
    CHECK (name = btrim(name) AND name <> '' AND length(name) <= 200 AND name !~ '[[:cntrl:]]') NOT VALID;
