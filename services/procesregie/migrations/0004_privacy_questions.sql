-- The privacy officer's questions (issue 16): "who saw this person" finds the person's
-- applications and watched cases by their pseudonym, the ICOs of those applications, then the
-- access log rows of any of them, each through an index. Every question asked is itself kept,
-- append-only, with the pseudonym it was about, so the next answer shows it.
CREATE INDEX watched_cases_person ON watched_cases (person_key) WHERE person_key IS NOT NULL;
CREATE INDEX access_log_ico ON access_log (ico_id, at) WHERE ico_id IS NOT NULL;
CREATE INDEX access_log_case ON access_log (case_id, at) WHERE case_id IS NOT NULL;

CREATE TABLE privacy_questions (
    id           bigserial   PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    user_id      text        NOT NULL,
    role         text        NOT NULL,
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
