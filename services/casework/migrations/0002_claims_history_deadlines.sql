-- Claiming, history, deadlines, closure and the access log (issue 5).

-- Who holds a task, and since when. A claim is taken with a conditional UPDATE
-- (`WHERE claimed_by IS NULL`), so of two people claiming at once exactly one wins.
ALTER TABLE condition_tasks
    ADD COLUMN claimed_by  text,
    ADD COLUMN claimed_at  timestamptz,
    -- Why the condition does not apply (required for not_applicable).
    ADD COLUMN reason      text,
    -- Set when the person was released unexpectedly while the task was open.
    ADD COLUMN urgent      boolean     NOT NULL DEFAULT false,
    ADD COLUMN updated_at  timestamptz;
CREATE INDEX condition_tasks_holder ON condition_tasks (claimed_by) WHERE claimed_by IS NOT NULL;
CREATE INDEX condition_tasks_due ON condition_tasks (due_on)
    WHERE status IN ('unknown', 'needs_action', 'in_progress');

ALTER TABLE cases
    -- The actual release date, when the person was released unexpectedly.
    ADD COLUMN released_on   date,
    ADD COLUMN closed_at     timestamptz,
    ADD COLUMN closed_reason text,
    -- A user id, or notice:<key> when a cancelling notice closed the case.
    ADD COLUMN closed_by     text,
    ADD COLUMN closed_note   text;

-- Every change of a task: who, when, from, to, note. Append-only.
CREATE TABLE task_history (
    id          bigserial   PRIMARY KEY,
    case_id     uuid        NOT NULL,
    condition   text        NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    -- A user id, `notice:<key>` or `system`.
    by_whom     text        NOT NULL,
    -- opened, status, claimed, unclaimed, handed_over, reassigned, lapsed, deadline, urgent.
    change      text        NOT NULL,
    from_status text,
    to_status   text,
    from_holder text,
    to_holder   text,
    note        text,
    FOREIGN KEY (case_id, condition) REFERENCES condition_tasks (case_id, condition)
);
CREATE INDEX task_history_task ON task_history (case_id, condition, id);

-- Changes of a case as a whole (release date moved, transfer, re-routing, closure).
CREATE TABLE case_history (
    id       bigserial   PRIMARY KEY,
    case_id  uuid        NOT NULL REFERENCES cases (case_id),
    at       timestamptz NOT NULL DEFAULT now(),
    by_whom  text        NOT NULL,
    change   text        NOT NULL,
    detail   jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX case_history_case ON case_history (case_id, id);

-- One row per reminder raised: the key makes every reminder happen once per task, kind and due
-- date, whichever instance gets there first and however often it restarts. A moved due date is
-- a new deadline and reminds again.
CREATE TABLE reminders (
    case_id   uuid        NOT NULL,
    condition text        NOT NULL,
    kind      text        NOT NULL CHECK (kind IN ('due_soon', 'overdue')),
    due_on    date        NOT NULL,
    event_id  uuid        NOT NULL UNIQUE,
    raised_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, condition, kind, due_on),
    FOREIGN KEY (case_id, condition) REFERENCES condition_tasks (case_id, condition)
);

-- Every read of personal data: who, role, organisation, which case, what, when. Append-only:
-- the privacy officer must be able to trust it, so rows can be neither changed nor deleted.
CREATE TABLE access_log (
    id           bigserial   PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    user_id      text        NOT NULL,
    role         text        NOT NULL,
    gemeentecode text,
    case_id      uuid        NOT NULL,
    what         text        NOT NULL
);
CREATE INDEX access_log_case ON access_log (case_id, at);

CREATE FUNCTION access_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'access_log is append-only';
END;
$$;
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_is_append_only();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_is_append_only();
