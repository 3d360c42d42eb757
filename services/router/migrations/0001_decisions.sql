-- One routing decision per accepted notice, with the rule, the inputs it used and why.
CREATE TABLE decisions (
    notice_key   text        PRIMARY KEY,
    episode_key  text        NOT NULL,
    outcome      text        NOT NULL CHECK (outcome IN ('routed', 'out_of_region', 'unroutable')),
    gemeentecode text        CHECK ((outcome = 'unroutable') = (gemeentecode IS NULL)),
    rule         text        NOT NULL,
    reason       text        NOT NULL,
    ambiguous    boolean     NOT NULL DEFAULT false,
    inputs       jsonb       NOT NULL,
    decided_at   timestamptz NOT NULL,
    received_at  timestamptz NOT NULL
);
CREATE INDEX decisions_waiting ON decisions (decided_at) WHERE outcome = 'unroutable';
CREATE INDEX decisions_episode ON decisions (episode_key);
