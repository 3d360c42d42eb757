-- The deletion log of one service, in the session's schema (`search_path`). Run by
-- `rcn_runtime::retention::install` at every start-up and by `.ci/sqlx-prepare` into its scratch
-- database. One line per retention run and rule: the record class, the rule in words, how many
-- records it removed and when. Never personal data. Every statement is idempotent.
CREATE TABLE IF NOT EXISTS retention_log (
    run_id  uuid        NOT NULL,
    run_at  timestamptz NOT NULL,
    class   text        NOT NULL,
    rule    text        NOT NULL,
    removed bigint      NOT NULL CHECK (removed >= 0),
    PRIMARY KEY (run_id, class, rule)
);
CREATE INDEX IF NOT EXISTS retention_log_newest ON retention_log (run_at DESC);
