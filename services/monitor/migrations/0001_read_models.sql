-- The monitor's read models, fed only by events. Every write is idempotent: history rows are
-- keyed by the event that caused them, notices by their key, and the few "current state" columns
-- of a case are last-writer-wins by (event time, event id), so redelivery, duplicates and any
-- order of arrival give the same tables. Nothing personal is kept: keys, codes, statuses, times.

-- NOTICES: one row per accepted notice.
CREATE TABLE notices (
    notice_key       text        PRIMARY KEY,
    kind             text        NOT NULL,
    institution_code text        NOT NULL,
    received_at      timestamptz NOT NULL,
    forwarded_from   text
);
CREATE INDEX notices_received ON notices (received_at);

-- ROUTING: one row per notice, merged from its decisions (first unroutable, first decision that
-- names a municipality) and the acknowledgement of its forward. Every column but the key may be
-- unknown yet, since the events of one notice may arrive in any order.
CREATE TABLE routing (
    notice_key      text        PRIMARY KEY,
    received_at     timestamptz,
    unroutable_at   timestamptz,
    decided_at      timestamptz,
    decision_event  uuid,
    outcome         text,
    gemeentecode    text,
    rule            text,
    acknowledged_at timestamptz
);
CREATE INDEX routing_received ON routing (received_at);
CREATE INDEX routing_waiting ON routing (unroutable_at) WHERE decided_at IS NULL;

-- CASES: one row per case. Each group of columns is last-writer-wins on its own (time, event).
CREATE TABLE cases (
    case_id            uuid        PRIMARY KEY,
    gemeentecode       text        NOT NULL,
    gemeente_at        timestamptz NOT NULL,
    gemeente_event     uuid        NOT NULL,
    -- The first opening: when, and when intake received the notice that opened it.
    first_opened_at    timestamptz,
    notice_received_at timestamptz,
    -- Open or closed, set by case_opened (also a reopening) and case_closed.
    opened_at          timestamptz,
    closed             boolean     NOT NULL DEFAULT false,
    close_reason       text,
    state_at           timestamptz,
    state_event        uuid,
    -- The expected release and spoed, set by case_opened and case_rescheduled.
    release_on         date,
    spoed              boolean     NOT NULL DEFAULT false,
    release_at         timestamptz,
    release_event      uuid
);
CREATE INDEX cases_release_on ON cases (release_on);
CREATE INDEX cases_notice_received ON cases (notice_received_at);

-- A task's status over time: the statuses a case opened with, and every change.
CREATE TABLE task_statuses (
    event_id  uuid        NOT NULL,
    condition text        NOT NULL,
    case_id   uuid        NOT NULL,
    status    text        NOT NULL,
    at        timestamptz NOT NULL,
    PRIMARY KEY (event_id, condition)
);
CREATE INDEX task_statuses_by_task ON task_statuses (case_id, condition, at DESC);

-- Who held a task over time, only as "held or not".
CREATE TABLE task_claims (
    event_id  uuid        PRIMARY KEY,
    case_id   uuid        NOT NULL,
    condition text        NOT NULL,
    change    text        NOT NULL,
    held      boolean     NOT NULL,
    at        timestamptz NOT NULL
);
CREATE INDEX task_claims_held ON task_claims (case_id, at) WHERE held;

-- A task's due date over time, from deadline reminders and reschedules.
CREATE TABLE task_dues (
    event_id  uuid        NOT NULL,
    condition text        NOT NULL,
    case_id   uuid        NOT NULL,
    due_on    date,
    at        timestamptz NOT NULL,
    PRIMARY KEY (event_id, condition)
);
CREATE INDEX task_dues_by_task ON task_dues (case_id, condition, at DESC);

-- DLQ: one row per dead letter.
CREATE TABLE dead_letters (
    dead_letter_id text        PRIMARY KEY,
    service        text        NOT NULL,
    at             timestamptz NOT NULL
);
