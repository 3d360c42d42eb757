-- The manual routing queue and forwarding to other regions.

-- The accepted notice (NoticeAccepted as JSON), kept only while the decision is 'unroutable': a
-- coordinator's decision must announce the whole notice. Cleared when the notice is decided by
-- hand, so the router keeps no personal data it no longer needs.
ALTER TABLE decisions ADD COLUMN notice jsonb;

-- One decision by hand per waiting notice. The primary key makes it happen once: of two
-- coordinators deciding at the same moment, the second insert finds the first one's row.
CREATE TABLE manual_decisions (
    notice_key   text        PRIMARY KEY REFERENCES decisions (notice_key),
    outcome      text        NOT NULL CHECK (outcome IN ('routed', 'out_of_region')),
    gemeentecode text        NOT NULL,
    decided_by   text        NOT NULL CHECK (btrim(decided_by) <> ''),
    why          text        NOT NULL CHECK (btrim(why) <> ''),
    decided_at   timestamptz NOT NULL,
    event_id     uuid        NOT NULL UNIQUE
);

-- Notices sent on to the region serving the responsible municipality, visible to the RCN until
-- that region acknowledges them.
CREATE TABLE forwards (
    notice_key      text        PRIMARY KEY REFERENCES decisions (notice_key),
    target_region   text        NOT NULL,
    gemeentecode    text        NOT NULL,
    event_id        uuid        NOT NULL UNIQUE,
    -- When the forward was committed to the outbox; the relay publishes it moments later.
    forwarded_at    timestamptz NOT NULL,
    acknowledged_at timestamptz
);
CREATE INDEX forwards_unacknowledged ON forwards (forwarded_at) WHERE acknowledged_at IS NULL;
