-- "Who saw this person" (issue 16): the router shows personal data too — the routing decisions
-- of a case's notices on the case page, the notices waiting in the manual routing queue (masked
-- BSN, PC4, institution, release date) — and a coordinator's decision by hand changes where a
-- person's notice goes. Every such read or change is kept here, append-only, found by the person
-- pseudonym (never the BSN): who, role, organisation, when, what (the shared vocabulary,
-- rcn_contracts::access_log), why, and which notices.
CREATE TABLE access_log (
    id           bigserial   PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    user_id      text        NOT NULL,
    role         text        NOT NULL CHECK (role IN (
        'municipal_staff', 'rcn_coordinator', 'procesregisseur', 'privacy_officer', 'administrator')),
    gemeentecode text,
    person_key   text        NOT NULL,
    what         text        NOT NULL CHECK (btrim(what) <> ''),
    why          text,
    notice_keys  text[]      NOT NULL
);
CREATE INDEX access_log_person ON access_log (person_key, at);
CREATE INDEX access_log_at ON access_log (at);

-- Append-only for everyone but the retention job, which says so in its own transaction
-- (`SET LOCAL rcn.retention = 'on'`), as casework's (0008) and procesregie's (0005) do.
-- TRUNCATE stays refused.
CREATE FUNCTION access_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('rcn.retention', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'access_log is append-only';
END;
$$;
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_is_append_only();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_is_append_only();

-- The privacy officer's "who saw" question is logged here too (it gives no reason, so `why`
-- becomes optional; an export still needs one), and the questions expire with the access log.
ALTER TABLE privacy_questions ALTER COLUMN why DROP NOT NULL;
ALTER TABLE privacy_questions DROP CONSTRAINT privacy_questions_question_check;
ALTER TABLE privacy_questions ADD CONSTRAINT privacy_questions_question_check
    CHECK (question IN ('privacy_export', 'privacy_accesses'));
ALTER TABLE privacy_questions ADD CONSTRAINT privacy_questions_export_why
    CHECK (question <> 'privacy_export' OR why IS NOT NULL);
CREATE INDEX privacy_questions_at ON privacy_questions (at);
CREATE OR REPLACE FUNCTION privacy_questions_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('rcn.retention', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'privacy_questions is append-only';
END;
$$;
