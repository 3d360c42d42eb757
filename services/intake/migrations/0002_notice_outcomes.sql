-- What became of each notice after intake: the router's latest decision, from the ROUTING stream.
-- No personal data: the outcome, the municipality code and when. Keyed like receipts (sender
-- code + sender's notice id) but without a foreign key, because the two consumers run
-- independently and a decision may be recorded before its receipt.
CREATE TABLE notice_outcomes (
    notice_key   text        PRIMARY KEY,
    outcome      text        NOT NULL CHECK (outcome IN ('routed', 'out_of_region', 'unroutable')),
    gemeentecode text,
    rule         text        NOT NULL,
    decided_at   timestamptz NOT NULL,
    -- The router's event id, so a redelivery is recognised.
    event_id     uuid        NOT NULL
);
