-- Procesregie's own records: the conditions and risk flags it watches, the suggestions its rules
-- raise, applications (aanmeldingen), triage outcomes, ICOs with their plan van aanpak and
-- reviews, and the append-only log of every read.
--
-- Statuses, outcomes and reasons are checked text, mapped to Rust enums in the code.

ALTER TABLE watched_cases
    ADD COLUMN risk_flags jsonb NOT NULL DEFAULT '[]';

CREATE TABLE watched_conditions (
    case_id    uuid        NOT NULL REFERENCES watched_cases (case_id),
    condition  text        NOT NULL,
    status     text        NOT NULL,
    changed_at timestamptz NOT NULL,
    PRIMARY KEY (case_id, condition)
);

-- Overdue reminders casework raised, one per task and due date.
CREATE TABLE overdue_conditions (
    case_id   uuid        NOT NULL REFERENCES watched_cases (case_id),
    condition text        NOT NULL,
    due_on    date        NOT NULL,
    raised_at timestamptz NOT NULL,
    PRIMARY KEY (case_id, condition, due_on)
);

-- A rule suggests escalating a case at most once per rule: it never escalates by itself.
CREATE TABLE suggestions (
    suggestion_id  uuid        PRIMARY KEY,
    case_id        uuid        NOT NULL REFERENCES watched_cases (case_id),
    gemeentecode   text        NOT NULL,
    rule           text        NOT NULL CHECK (rule IN ('risk_flag', 'open_conditions_near_release', 'spoed_overdue')),
    inputs         jsonb       NOT NULL,
    raised_at      timestamptz NOT NULL,
    status         text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'dismissed')),
    decided_by     text,
    decided_at     timestamptz,
    dismiss_reason text,
    application_id uuid,
    UNIQUE (case_id, rule),
    CHECK (status <> 'dismissed' OR dismiss_reason IS NOT NULL)
);
CREATE INDEX suggestions_open ON suggestions (gemeentecode, raised_at) WHERE status = 'open';

CREATE TABLE applications (
    application_id        uuid        PRIMARY KEY,
    status                text        NOT NULL CHECK (status IN ('draft', 'submitted', 'triaged')),
    case_id               uuid,
    suggestion_id         uuid        REFERENCES suggestions (suggestion_id),
    person_key            text,
    -- A person not in casework: names and date of birth; the BSN only masked.
    person                jsonb,
    gemeentecode          text,
    applicant_id          text        NOT NULL,
    applicant_role        text        NOT NULL,
    applicant_gemeentecode text,
    reason                text,
    goal                  text,
    criteria              jsonb       NOT NULL DEFAULT '{}',
    partners              jsonb       NOT NULL DEFAULT '[]',
    informed              boolean,
    not_informed_why      text,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    submitted_at          timestamptz,
    triage_on             date,
    outcome               text        CHECK (outcome IN ('ico', 'advice', 'local_table', 'not_accepted')),
    outcome_reason        text,
    advice                text,
    decided_by            text,
    decided_at            timestamptz,
    CHECK ((status = 'draft') = (submitted_at IS NULL)),
    CHECK ((status = 'triaged') = (outcome IS NOT NULL))
);
CREATE INDEX applications_agenda ON applications (triage_on, submitted_at);
CREATE INDEX applications_person ON applications (person_key) WHERE person_key IS NOT NULL;
CREATE INDEX applications_case ON applications (case_id) WHERE case_id IS NOT NULL;

CREATE TABLE icos (
    ico_id          uuid        PRIMARY KEY,
    application_id  uuid        NOT NULL UNIQUE REFERENCES applications (application_id),
    status          text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    procesregisseur text        NOT NULL,
    casusregisseur  jsonb,
    partners        jsonb       NOT NULL DEFAULT '[]',
    goal            text        NOT NULL,
    opened_at       timestamptz NOT NULL,
    closed_at       timestamptz,
    close_reason    text        CHECK (close_reason IN ('goal_reached', 'handed_back', 'no_cooperation',
                                                        'moved_out_of_region', 'detained_again', 'deceased')),
    close_note      text,
    closed_by       text,
    CHECK ((status = 'closed') = (close_reason IS NOT NULL))
);

CREATE TABLE ico_actions (
    action_id          uuid        PRIMARY KEY,
    ico_id             uuid        NOT NULL REFERENCES icos (ico_id),
    owner_organisation text        NOT NULL,
    description        text        NOT NULL,
    due_on             date        NOT NULL,
    status             text        NOT NULL CHECK (status IN ('open', 'in_progress', 'done', 'cancelled')),
    created_at         timestamptz NOT NULL
);
CREATE INDEX ico_actions_of ON ico_actions (ico_id, created_at);

-- Every version of an action, append-only: the plan's history.
CREATE TABLE ico_action_history (
    id                 bigserial   PRIMARY KEY,
    action_id          uuid        NOT NULL REFERENCES ico_actions (action_id),
    at                 timestamptz NOT NULL,
    by_user            text        NOT NULL,
    owner_organisation text        NOT NULL,
    description        text        NOT NULL,
    due_on             date        NOT NULL,
    status             text        NOT NULL
);

CREATE TABLE ico_reviews (
    review_id      uuid        PRIMARY KEY,
    ico_id         uuid        NOT NULL REFERENCES icos (ico_id),
    held_on        date        NOT NULL,
    notes          text        NOT NULL,
    next_review_on date,
    recorded_by    text        NOT NULL,
    recorded_at    timestamptz NOT NULL
);

-- Every read of personal data: who, role, organisation, what, when. Append-only.
CREATE TABLE access_log (
    id             bigserial   PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    user_id        text        NOT NULL,
    role           text        NOT NULL,
    gemeentecode   text,
    application_id uuid,
    ico_id         uuid,
    case_id        uuid,
    what           text        NOT NULL
);
CREATE INDEX access_log_application ON access_log (application_id, at);

CREATE FUNCTION access_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'access_log is append-only';
END;
$$;
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_is_append_only();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_is_append_only();
