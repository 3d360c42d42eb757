-- Retention of the privacy officer's questions (issue 16): like the access log they are about,
-- they are kept RCN_RETENTION_ACCESS_LOG_YEARS and then deleted by the retention job alone, in
-- its own transaction (`SET LOCAL rcn.retention = 'on'`); every other change stays refused
-- (migration 0005_privacy_export). The index lets the job find what expired.
CREATE OR REPLACE FUNCTION privacy_questions_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('rcn.retention', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'privacy_questions is append-only';
END;
$$;
CREATE INDEX privacy_questions_at ON privacy_questions (at);
