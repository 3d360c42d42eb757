-- API tokens of the partner API: one or more per detention institution. Only a SHA-256 hash of
-- each token's secret is kept; the token itself is shown once, when issued. A token is valid
-- while revoked_at is NULL or still in the future (a rotation's grace period).
CREATE TABLE api_tokens (
    token_id         uuid        PRIMARY KEY,
    institution_code text        NOT NULL,
    -- What the token is for, e.g. "PI Haarlem casemanagement system"; for the RCN's overview.
    name             text,
    secret_hash      bytea       NOT NULL CHECK (length(secret_hash) = 32),
    created_at       timestamptz NOT NULL DEFAULT now(),
    revoked_at       timestamptz,
    last_used_at     timestamptz,
    -- Set when the token was rotated: the token that replaces it.
    replaced_by      uuid        REFERENCES api_tokens (token_id)
);
CREATE INDEX api_tokens_institution ON api_tokens (institution_code);
