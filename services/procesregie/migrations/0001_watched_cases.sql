-- What procesregie knows of casework's cases, from casework's events on CASES only (it never
-- reads casework's tables): enough to suggest escalation and to show that a case is in an ICO.
-- No names, no BSN: the case id, the pseudonyms and the municipality.
CREATE TABLE watched_cases (
    case_id             uuid        PRIMARY KEY,
    episode_key         text        NOT NULL,
    person_key          text,
    gemeentecode        text        NOT NULL,
    expected_release_on date,
    spoed               boolean     NOT NULL DEFAULT false,
    open                boolean     NOT NULL DEFAULT true,
    first_seen_at       timestamptz NOT NULL DEFAULT now()
);

-- Every CASES event applied, by its id: a redelivery changes nothing.
CREATE TABLE applied_events (
    event_id   uuid        PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);
