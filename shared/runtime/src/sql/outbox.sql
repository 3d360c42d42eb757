-- The outbox table of one service, in the session's schema (`search_path`). Run by
-- `rcn_runtime::outbox::install` at every start-up and by `.ci/sqlx-prepare` into its scratch
-- database, so this file is the one definition of the table. Every statement is idempotent.
CREATE TABLE IF NOT EXISTS outbox (
    seq        bigserial   PRIMARY KEY,
    event_id   uuid        NOT NULL UNIQUE,
    subject    text        NOT NULL,
    payload    bytea       NOT NULL,
    headers    jsonb       NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);

-- An event the broker refused waits until `retry_at` (with back-off by `attempts`), so a batch
-- of refused events cannot stand in front of the events behind them. Added to tables created
-- before these columns existed.
ALTER TABLE outbox
    ADD COLUMN IF NOT EXISTS attempts integer     NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS retry_at timestamptz;

-- Wakes the relay at commit: a statement-level trigger costs no round trip per event, and NOTIFY
-- is delivered once per transaction however many events it holds.
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_notify(TG_TABLE_SCHEMA || '_outbox', ''); RETURN NULL; END $$;

CREATE OR REPLACE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
