-- Sign-ins started at the organisation's identity provider and not yet come back: the state,
-- nonce and PKCE verifier stay here, never in the browser. The browser holds only a random key
-- whose SHA-256 is stored; a callback takes its record once (deleted as it is read).
CREATE TABLE portal_oidc_logins (
    login_hash bytea PRIMARY KEY CHECK (octet_length(login_hash) = 32),
    pending jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX portal_oidc_logins_created ON portal_oidc_logins (created_at);
