-- Retention of the dead-letter desk's log and the privacy officer's questions (issue 16): like
-- the other services' access logs they keep person pseudonyms, so they are kept
-- RCN_RETENTION_ACCESS_LOG_YEARS and then deleted by the monitor's retention job alone, in its
-- own transaction (`SET LOCAL rcn.retention = 'on'`); every other change, and TRUNCATE, stays
-- refused (migrations 0002, 0005). The indexes let the job find what expired. The monitor's read
-- models and counters hold no personal data and are never deleted.
CREATE OR REPLACE FUNCTION dead_letter_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('rcn.retention', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'dead_letter_log is append-only';
END;
$$;
CREATE OR REPLACE FUNCTION privacy_questions_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('rcn.retention', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'privacy_questions is append-only';
END;
$$;
CREATE INDEX dead_letter_log_at ON dead_letter_log (at);
CREATE INDEX privacy_questions_at ON privacy_questions (at);
