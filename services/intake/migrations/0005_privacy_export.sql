-- The person's right of access (AVG art. 15, issue 16): the privacy officer's export finds every
-- receipts row of one person through the person pseudonym (HMAC of the BSN with the region's key,
-- as NoticeAccepted carries it), never the BSN. Rows from before this column have none: the
-- BSN was never kept here, so they cannot be found by person (they expire with retention).
ALTER TABLE receipts ADD COLUMN person_key text;
CREATE INDEX receipts_person ON receipts (person_key) WHERE person_key IS NOT NULL;

-- Every export question asked here, append-only: who, when, why, about which pseudonym.
CREATE TABLE privacy_questions (
    id           bigserial   PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    user_id      text        NOT NULL,
    role         text        NOT NULL CHECK (role IN (
        'municipal_staff', 'rcn_coordinator', 'procesregisseur', 'privacy_officer', 'administrator')),
    gemeentecode text,
    person_key   text        NOT NULL,
    question     text        NOT NULL CHECK (question IN ('privacy_export')),
    why          text        NOT NULL CHECK (btrim(why) <> '')
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
