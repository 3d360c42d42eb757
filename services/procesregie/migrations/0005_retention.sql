-- Retention (issue 16). Procesregie's logs stay append-only for everyone but the retention job:
-- it deletes access-log rows and privacy questions older than RCN_RETENTION_ACCESS_LOG_YEARS
-- after saying so in its own transaction (`SET LOCAL rcn.retention = 'on'`), as casework's job
-- does (casework/0008). TRUNCATE stays refused. The indexes let the job find what expired.
CREATE OR REPLACE FUNCTION access_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('rcn.retention', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'access_log is append-only';
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
CREATE INDEX access_log_at ON access_log (at);
CREATE INDEX privacy_questions_at ON privacy_questions (at);
CREATE INDEX icos_closed_at ON icos (closed_at) WHERE status = 'closed';
CREATE INDEX applications_decided_at ON applications (decided_at) WHERE status = 'triaged';
