-- The RCN's dead-letter desk: every look at a dead letter's payload (which may hold personal
-- data) and every replay or discard, with who, role, organisation, when and why. Append-only.
-- Unlike the read models it is not rebuilt from the streams: `rcn monitor rebuild` carries it
-- over into the rebuilt schema.
CREATE TABLE dead_letter_log (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    sequence      bigint      NOT NULL,
    service       text        NOT NULL,
    action        text        NOT NULL CHECK (action IN ('inspected', 'replayed', 'discarded')),
    user_id       text        NOT NULL,
    role          text        NOT NULL,
    gemeentecode  text,
    why           text        NOT NULL
);
CREATE INDEX dead_letter_log_settled ON dead_letter_log (at DESC) WHERE action <> 'inspected';

CREATE FUNCTION dead_letter_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'dead_letter_log is append-only';
END;
$$;
CREATE TRIGGER dead_letter_log_append_only BEFORE UPDATE OR DELETE ON dead_letter_log
    FOR EACH ROW EXECUTE FUNCTION dead_letter_log_is_append_only();
CREATE TRIGGER dead_letter_log_no_truncate BEFORE TRUNCATE ON dead_letter_log
    FOR EACH STATEMENT EXECUTE FUNCTION dead_letter_log_is_append_only();
