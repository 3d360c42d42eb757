-- One case per person per detention episode (episode_key: a keyed hash of BSN + start date).
-- The BSN is stored because staff must identify the person, but it is never a key.
CREATE TABLE cases (
    case_id             uuid        PRIMARY KEY,
    episode_key         text        NOT NULL UNIQUE,
    person_key          text        NOT NULL,
    gemeentecode        text        NOT NULL,
    bsn                 text        NOT NULL,
    family_name         text        NOT NULL,
    name_prefix         text,
    given_names         text,
    date_of_birth       date        NOT NULL,
    institution_code    text        NOT NULL,
    started_on          date        NOT NULL,
    expected_release_on date,
    spoed               boolean     NOT NULL DEFAULT false,
    risk_flags          jsonb       NOT NULL DEFAULT '[]',
    status              text        NOT NULL DEFAULT 'open',
    opened_at           timestamptz NOT NULL,
    opened_by_notice    text        NOT NULL
);
CREATE INDEX cases_municipality ON cases (gemeentecode, status);

-- One task per aftercare condition of a case.
CREATE TABLE condition_tasks (
    case_id    uuid NOT NULL REFERENCES cases (case_id),
    condition  text NOT NULL,
    status     text NOT NULL CHECK (status IN ('unknown', 'needs_action', 'in_progress', 'arranged', 'not_applicable')),
    note       text,
    due_on     date,
    PRIMARY KEY (case_id, condition)
);

-- Every notice applied to a case, once (the notice key makes redelivery harmless).
CREATE TABLE case_notices (
    notice_key  text        PRIMARY KEY,
    case_id     uuid        NOT NULL REFERENCES cases (case_id),
    kind        text        NOT NULL,
    sent_at     timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    applied_at  timestamptz NOT NULL
);
CREATE INDEX case_notices_case ON case_notices (case_id);
