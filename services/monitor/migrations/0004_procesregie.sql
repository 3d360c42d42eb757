-- PROCESREGIE: applications for an ICO and the ICOs themselves, fed only by procesregie's events
-- (`src/read_models/procesregie.rs`). Idempotent and order-free like the other read models: a
-- redelivered event changes nothing, and the events of one application or ICO may arrive in any
-- order. Only ids, codes, outcomes, reasons and times: procesregie's events carry no names, no
-- BSN and no free text, and none is kept here.
--
-- The figures read these tables directly (`src/figures.rs`): a region has tens of ICOs a year,
-- the country a few thousand, so a GROUP BY over them is cheap and needs no counters.

-- One row per application. Submitted: the earliest submission known. Decided: the earliest
-- decision by (time, event id), as the router's first decision stands; `triaged_on` is the day of
-- the triage that decided it.
CREATE TABLE applications (
    application_id uuid        PRIMARY KEY,
    gemeentecode   text,
    submitted_at   timestamptz,
    decided_at     timestamptz,
    decision_event uuid,
    triaged_on     date,
    outcome        text CHECK (outcome IN ('ico', 'advice', 'local_table', 'not_accepted'))
);
CREATE INDEX applications_waiting ON applications (submitted_at) WHERE decided_at IS NULL;
CREATE INDEX applications_triaged_on ON applications (triaged_on) WHERE decided_at IS NOT NULL;

-- One row per ICO: opened (from ico_opened, or the opening time ico_closed repeats) and its
-- closure (the earliest by time, event id).
CREATE TABLE icos (
    ico_id       uuid        PRIMARY KEY,
    gemeentecode text,
    opened_at    timestamptz,
    closed_at    timestamptz,
    close_event  uuid,
    close_reason text CHECK (close_reason IN ('goal_reached', 'handed_back', 'no_cooperation',
                                              'moved_out_of_region', 'detained_again', 'deceased'))
);
CREATE INDEX icos_opened ON icos (opened_at);
CREATE INDEX icos_closed ON icos (closed_at) WHERE closed_at IS NOT NULL;
