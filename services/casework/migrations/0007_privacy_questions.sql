-- The privacy officer's questions (issue 16): "who saw this person" finds the person's cases by
-- their pseudonym, then each case's access log (access_log_case). Every question asked is itself
-- kept, append-only, with the pseudonym it was about, so the next answer shows it.
CREATE INDEX cases_person ON cases (person_key);

CREATE TABLE privacy_questions (
    id           bigserial   PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    user_id      text        NOT NULL,
    role         text        NOT NULL CHECK (role IN (
        'municipal_staff', 'rcn_coordinator', 'procesregisseur', 'privacy_officer', 'administrator')),
    gemeentecode text,
    person_key   text        NOT NULL,
    question     text        NOT NULL CHECK (question IN ('privacy_accesses', 'privacy_export'))
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
