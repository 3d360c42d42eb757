-- The staff portal: the people who sign in, their sessions, and their saved inbox views.

-- Everyone who can sign in or has signed in: built-in accounts (`rcn users add`, with an argon2
-- password hash) and people who signed in through the organisation's identity provider (no
-- hash). The portal offers the municipality's people as colleagues to hand a task over to.
-- A disabled person cannot sign in, and their sessions end when they are disabled.
CREATE TABLE portal_users (
    user_id         text        PRIMARY KEY,
    display_name    text        NOT NULL,
    role            text        NOT NULL,
    gemeentecode    text,
    -- argon2id PHC string; NULL for people who sign in through the identity provider.
    password_hash   text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_sign_in_at timestamptz,
    disabled_at     timestamptz
);
CREATE INDEX portal_users_colleagues ON portal_users (gemeentecode, role) WHERE disabled_at IS NULL;

-- Server-side sessions. Only the SHA-256 of the session id (the cookie) is kept, so a copy of
-- this table signs nobody in. A session ends on sign-out, when unused for the idle time-out,
-- at expires_at (the absolute time-out), or when its person is disabled.
CREATE TABLE portal_sessions (
    session_hash     bytea       PRIMARY KEY CHECK (length(session_hash) = 32),
    user_id          text        NOT NULL,
    -- The Identity passed to the services in Rcn-Identity, as it was at sign-in.
    identity         jsonb       NOT NULL,
    display_name     text        NOT NULL,
    -- Every form of this session carries it; a POST without it changes nothing.
    csrf_token       text        NOT NULL,
    -- Where sign-out sends the browser to end the session at the identity provider too.
    idp_end_session_url text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_seen_at     timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    ended_at         timestamptz,
    -- A message for the next page shown (after a POST-redirect-GET): {"kind": …, "text": …}.
    flash            jsonb
);
CREATE INDEX portal_sessions_user ON portal_sessions (user_id) WHERE ended_at IS NULL;

-- Named inbox views a person saved: the filters of the inbox page as its query string.
CREATE TABLE portal_saved_views (
    user_id    text        NOT NULL,
    name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    query      text        NOT NULL CHECK (length(query) <= 1000),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, name)
);
