-- Retention (issue 16). The access log stays append-only for everyone but the retention job:
-- it deletes rows older than RCN_RETENTION_ACCESS_LOG_YEARS after saying so in its own
-- transaction (`SET LOCAL rcn.retention = 'on'`). TRUNCATE stays refused.
CREATE OR REPLACE FUNCTION access_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('rcn.retention', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'access_log is append-only';
END;
$$;
CREATE INDEX access_log_at ON access_log (at);
CREATE INDEX cases_closed_at ON cases (closed_at) WHERE status = 'closed';
