-- Intake's receipt ledger: one row per accepted notice (key = sender code + sender's notice id).
CREATE TABLE receipts (
    notice_key       text        PRIMARY KEY,
    notice_id        text        NOT NULL,
    institution_code text        NOT NULL,
    kind             text        NOT NULL,
    episode_key      text        NOT NULL,
    fingerprint      text        NOT NULL,
    received_at      timestamptz NOT NULL
);
CREATE INDEX receipts_episode ON receipts (episode_key);
