-- Who issued, rotated or revoked which partner token, when, through what and (when given) why:
-- the Partnertoegang page shows it newest first. Written in the same transaction as the change
-- to api_tokens, by the portal (a signed-in person) and by `rcn tokens` (the command line).
-- Append-only; never the token or its secret. Kept as long as the tokens: the gateway holds no
-- personal data about people in aftercare, so no retention job removes it.
CREATE TABLE api_token_log (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at               timestamptz NOT NULL DEFAULT now(),
    action           text        NOT NULL CHECK (action IN ('issued', 'rotated', 'revoked')),
    token_id         uuid        NOT NULL,
    institution_code text        NOT NULL,
    -- A rotation: the successor issued, and how long the old token stays valid.
    successor_id     uuid,
    grace_secs       bigint      CHECK (grace_secs >= 0),
    -- 'portal': user_id and role name the signed-in person; 'command_line': `rcn tokens` (or the
    -- launcher's demo), run by whoever holds the gateway's database credentials.
    via              text        NOT NULL CHECK (via IN ('portal', 'command_line')),
    user_id          text,
    role             text,
    why              text        CHECK (why IS NULL OR btrim(why) <> ''),
    CHECK ((via = 'portal') = (user_id IS NOT NULL AND role IS NOT NULL)),
    CHECK ((action = 'rotated') = (successor_id IS NOT NULL))
);
CREATE INDEX api_token_log_newest ON api_token_log (at DESC, id DESC);

CREATE FUNCTION api_token_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'api_token_log is append-only';
END;
$$;
CREATE TRIGGER api_token_log_append_only BEFORE UPDATE OR DELETE ON api_token_log
    FOR EACH ROW EXECUTE FUNCTION api_token_log_is_append_only();
CREATE TRIGGER api_token_log_no_truncate BEFORE TRUNCATE ON api_token_log
    FOR EACH STATEMENT EXECUTE FUNCTION api_token_log_is_append_only();
