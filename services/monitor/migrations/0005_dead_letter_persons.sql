-- "Who saw this person" (issue 16): a dead letter whose payload is a notice (or an event carrying
-- one) holds a BSN, so inspecting it is a read of that person's data, and replaying or
-- discarding it decides what becomes of it. The desk stores the person pseudonyms (HMAC of each
-- BSN in the payload with the region's key, never the BSN) with each such log row, so the
-- privacy officer finds them through the person; NULL when the payload held no valid BSN.
ALTER TABLE dead_letter_log ADD COLUMN person_keys text[];
CREATE INDEX dead_letter_log_persons ON dead_letter_log USING gin (person_keys)
    WHERE person_keys IS NOT NULL;

-- Every "who saw" question asked of the monitor, append-only, with the pseudonym it was about,
-- so the next answer shows it. Like dead_letter_log it is a record, not a read model:
-- `rcn monitor rebuild` carries it over.
CREATE TABLE privacy_questions (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    user_id      text        NOT NULL,
    role         text        NOT NULL CHECK (role IN (
        'municipal_staff', 'rcn_coordinator', 'procesregisseur', 'privacy_officer', 'administrator')),
    gemeentecode text,
    person_key   text        NOT NULL,
    question     text        NOT NULL CHECK (question IN ('privacy_accesses'))
);
CREATE INDEX privacy_questions_person ON privacy_questions (person_key, at);

CREATE FUNCTION privacy_questions_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'privacy_questions is append-only';
END;
$$;
CREATE TRIGGER privacy_questions_append_only BEFORE UPDATE OR DELETE ON privacy_questions
    FOR EACH ROW EXECUTE FUNCTION privacy_questions_are_append_only();
CREATE TRIGGER privacy_questions_no_truncate BEFORE TRUNCATE ON privacy_questions
    FOR EACH STATEMENT EXECUTE FUNCTION privacy_questions_are_append_only();
