-- The inbox and the scheduler at national scale (issue 10): a million cases, five million tasks.
--
-- 1. Each task carries what the inbox filters and sorts on, copied from its case by triggers:
--    the municipality, whether the case is open, the expected release date, and a spoed key, so
--    every inbox query reads condition_tasks alone, through a partial index on open work, in the
--    order it shows, and joins `cases` only for the page's rows.
--
--    spoed_key: '-infinity' when the case is marked spoed or the person was released
--    unexpectedly, else the expected release date ('infinity' when unknown). A case is spoed on
--    `today` exactly when spoed_key <= today + SPOED_WITHIN_DAYS, so the date-dependent part stays
--    a range condition at read time (the number of days lives in the code, not here).
--
--    spoed_now: spoed_key <= spoed_horizon.horizon, the horizon of the scheduler's last look
--    (today + SPOED_WITHIN_DAYS then). The inbox indexes lead with it, so spoed work and then
--    the rest are each one ordered walk. Triggers compute it against the stored horizon; every
--    tick moves the horizon to today's and flips the few tasks whose release came near (or moved
--    away). The inbox trusts spoed_now only when the stored horizon is today's; otherwise (after
--    midnight before the first tick, or with the scheduler down) it reckons spoed from
--    spoed_key, exactly but with a sort.
--
-- 2. Each task remembers the due date it last had an overdue and a due-soon reminder for, so the
--    scheduler finds the tasks still to remind through a partial index holding only those,
--    instead of re-reading every overdue task and its reminders every minute. The `reminders`
--    table stays the one that makes each reminder happen exactly once.
--
-- 3. closing_candidates lists open cases that may have no open task left; the scheduler looks
--    only at these instead of at every open case.
--
-- The functions keep the search_path of this migration (casework's schema), so the triggers
-- work whatever the session's search_path is (an operator's psql, a tool).
--
-- What the triggers assume (anything that changes these in another way must keep them true):
-- - a task's case_id never changes, and a task is never moved to another case;
-- - the inbox-relevant facts of a case are exactly cases.gemeentecode, status ('open' shows in
--   the inbox, any other value does not), spoed, released_on and expected_release_on; whoever
--   changes them does so with an ordinary UPDATE of `cases` (not COPY into an existing row, not
--   with session_replication_role = replica, which skips triggers);
-- - tasks are not deleted while their case lives (there is no code path deleting them).

ALTER TABLE condition_tasks
    ADD COLUMN gemeentecode          text,
    ADD COLUMN case_open             boolean,
    ADD COLUMN expected_release_on   date,
    ADD COLUMN spoed_key             date,
    ADD COLUMN spoed_now             boolean,
    ADD COLUMN overdue_reminded_on   date,
    ADD COLUMN due_soon_reminded_on  date;

CREATE FUNCTION case_spoed_key(spoed boolean, released_on date, expected_release_on date)
    RETURNS date LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN spoed OR released_on IS NOT NULL THEN '-infinity'::date
                ELSE COALESCE(expected_release_on, 'infinity'::date) END
$$;

UPDATE condition_tasks t
SET gemeentecode = c.gemeentecode,
    case_open = c.status = 'open',
    expected_release_on = c.expected_release_on,
    spoed_key = case_spoed_key(c.spoed, c.released_on, c.expected_release_on),
    -- 7 is SPOED_WITHIN_DAYS as this is written; the first tick corrects it if it changed.
    spoed_now = case_spoed_key(c.spoed, c.released_on, c.expected_release_on)
                <= (now() AT TIME ZONE 'Europe/Amsterdam')::date + 7,
    overdue_reminded_on = CASE WHEN t.status IN ('unknown', 'needs_action', 'in_progress') AND c.status = 'open' THEN
        (SELECT r.due_on FROM reminders r WHERE r.case_id = t.case_id AND r.condition = t.condition
                                            AND r.kind = 'overdue' AND r.due_on = t.due_on
                                            AND r.gemeentecode = c.gemeentecode) END,
    due_soon_reminded_on = CASE WHEN t.status IN ('unknown', 'needs_action', 'in_progress') AND c.status = 'open' THEN
        (SELECT r.due_on FROM reminders r WHERE r.case_id = t.case_id AND r.condition = t.condition
                                            AND r.kind = 'due_soon' AND r.due_on = t.due_on
                                            AND r.gemeentecode = c.gemeentecode) END
FROM cases c
WHERE c.case_id = t.case_id;

ALTER TABLE condition_tasks
    ALTER COLUMN gemeentecode SET NOT NULL,
    ALTER COLUMN case_open SET NOT NULL,
    ALTER COLUMN spoed_key SET NOT NULL,
    ALTER COLUMN spoed_now SET NOT NULL;

-- The spoed horizon the scheduler last moved the tasks' spoed_now to. One row.
CREATE TABLE spoed_horizon (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    horizon  date    NOT NULL
);
INSERT INTO spoed_horizon (horizon) VALUES ((now() AT TIME ZONE 'Europe/Amsterdam')::date + 7);

-- A new task takes its case's facts, whatever the inserting code says; so does a task whose
-- status changes (it may come back into the inbox after the scheduler last looked).
CREATE FUNCTION condition_task_from_case() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    SELECT c.gemeentecode, c.status = 'open', c.expected_release_on,
           case_spoed_key(c.spoed, c.released_on, c.expected_release_on)
      INTO NEW.gemeentecode, NEW.case_open, NEW.expected_release_on, NEW.spoed_key
      FROM cases c WHERE c.case_id = NEW.case_id;
    NEW.spoed_now := COALESCE(NEW.spoed_key <= (SELECT h.horizon FROM spoed_horizon h), false);
    RETURN NEW;
END;
$$;
CREATE TRIGGER condition_task_from_case BEFORE INSERT OR UPDATE OF case_id, status ON condition_tasks
    FOR EACH ROW EXECUTE FUNCTION condition_task_from_case();

-- A case's change reaches its tasks in the same statement.
CREATE FUNCTION case_to_condition_tasks() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE condition_tasks
       SET gemeentecode = NEW.gemeentecode,
           case_open = NEW.status = 'open',
           expected_release_on = NEW.expected_release_on,
           spoed_key = case_spoed_key(NEW.spoed, NEW.released_on, NEW.expected_release_on),
           spoed_now = COALESCE(case_spoed_key(NEW.spoed, NEW.released_on, NEW.expected_release_on)
                                <= (SELECT h.horizon FROM spoed_horizon h), false),
           -- A municipality that takes a case over has been reminded of nothing yet
           -- (reminders are kept per municipality, migration 0004).
           overdue_reminded_on = CASE WHEN OLD.gemeentecode IS DISTINCT FROM NEW.gemeentecode
                                      THEN NULL ELSE overdue_reminded_on END,
           due_soon_reminded_on = CASE WHEN OLD.gemeentecode IS DISTINCT FROM NEW.gemeentecode
                                       THEN NULL ELSE due_soon_reminded_on END
     WHERE case_id = NEW.case_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER case_to_condition_tasks AFTER UPDATE ON cases
    FOR EACH ROW
    WHEN (OLD.gemeentecode IS DISTINCT FROM NEW.gemeentecode
       OR OLD.status IS DISTINCT FROM NEW.status
       OR OLD.spoed IS DISTINCT FROM NEW.spoed
       OR OLD.released_on IS DISTINCT FROM NEW.released_on
       OR OLD.expected_release_on IS DISTINCT FROM NEW.expected_release_on)
    EXECUTE FUNCTION case_to_condition_tasks();

-- The inbox, in the order it shows: spoed (as of the last tick) first, then urgent, due date,
-- release date. spoed_key and claimed_by are key columns so that the exact spoed range and the
-- holder are checked in the index, not in the table. Municipality first for municipal staff,
-- holder first for "mine", neither for the region.
CREATE INDEX condition_tasks_inbox_municipality ON condition_tasks
    (gemeentecode, spoed_now DESC, urgent DESC, due_on, expected_release_on, case_id, condition, spoed_key, claimed_by)
    WHERE case_open AND status IN ('unknown', 'needs_action', 'in_progress');
CREATE INDEX condition_tasks_inbox_region ON condition_tasks
    (spoed_now DESC, urgent DESC, due_on, expected_release_on, case_id, condition, spoed_key, claimed_by)
    WHERE case_open AND status IN ('unknown', 'needs_action', 'in_progress');
CREATE INDEX condition_tasks_inbox_holder ON condition_tasks
    (claimed_by, spoed_now DESC, urgent DESC, due_on, expected_release_on, case_id, condition, spoed_key, gemeentecode)
    WHERE case_open AND status IN ('unknown', 'needs_action', 'in_progress') AND claimed_by IS NOT NULL;
-- The tick's way to the few tasks whose spoed_now the new horizon flips.
-- (Triggers compute spoed_now against the stored horizon, so only a horizon that moves back,
-- which the calendar does not do, makes tasks stop being spoed; that rare look walks the region
-- index.)
-- (The task's key is included so that the tick's ordered walk never visits the table, which also
-- keeps the planner from preferring the region index.)
CREATE INDEX condition_tasks_not_spoed_yet ON condition_tasks (spoed_key) INCLUDE (case_id, condition)
    WHERE case_open AND status IN ('unknown', 'needs_action', 'in_progress') AND NOT spoed_now;

-- The scheduler: open tasks with a due date that has no reminder of that kind yet.
CREATE INDEX condition_tasks_overdue_pending ON condition_tasks (due_on)
    WHERE case_open AND status IN ('unknown', 'needs_action', 'in_progress')
      AND due_on IS NOT NULL AND overdue_reminded_on IS DISTINCT FROM due_on;
CREATE INDEX condition_tasks_due_soon_pending ON condition_tasks (due_on)
    WHERE case_open AND status IN ('unknown', 'needs_action', 'in_progress')
      AND due_on IS NOT NULL AND due_soon_reminded_on IS DISTINCT FROM due_on;
-- Superseded by the pending indexes (it held every open task, of closed cases too).
DROP INDEX condition_tasks_due;

-- Open cases that may have no open task left. `touched` changes whenever something may have
-- made a case closable, so the scheduler forgets a candidate only if nothing touched it since it
-- looked; `wait_until` is the release date the scheduler found when the case was not yet
-- released (it looks again from then on, or when the release date changes).
CREATE SEQUENCE closing_candidates_touch;
CREATE TABLE closing_candidates (
    case_id    uuid   PRIMARY KEY REFERENCES cases (case_id),
    touched    bigint NOT NULL DEFAULT nextval('closing_candidates_touch'),
    wait_until date
);

-- Each look reads the candidates not waiting (wait_until IS NULL or passed), not all of them.
CREATE INDEX closing_candidates_wait ON closing_candidates (wait_until);

CREATE FUNCTION touch_closing_candidate(case_id uuid) RETURNS void LANGUAGE sql SET search_path FROM CURRENT AS $$
    INSERT INTO closing_candidates (case_id) VALUES (case_id)
    ON CONFLICT ON CONSTRAINT closing_candidates_pkey
    DO UPDATE SET touched = nextval('closing_candidates_touch'), wait_until = NULL
$$;

-- A task done (inserted done, or moved from open to done) may leave its case with none open.
CREATE FUNCTION condition_task_done() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM touch_closing_candidate(NEW.case_id);
    RETURN NULL;
END;
$$;
CREATE TRIGGER condition_task_inserted_done AFTER INSERT ON condition_tasks
    FOR EACH ROW WHEN (NEW.status NOT IN ('unknown', 'needs_action', 'in_progress'))
    EXECUTE FUNCTION condition_task_done();
CREATE TRIGGER condition_task_done AFTER UPDATE OF status ON condition_tasks
    FOR EACH ROW WHEN (OLD.status IN ('unknown', 'needs_action', 'in_progress')
                   AND NEW.status NOT IN ('unknown', 'needs_action', 'in_progress'))
    EXECUTE FUNCTION condition_task_done();

-- A case opened (it may have no task at all), reopened, or whose release date moved.
CREATE FUNCTION case_may_close() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF NEW.status = 'open' THEN
        PERFORM touch_closing_candidate(NEW.case_id);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER case_opened_may_close AFTER INSERT ON cases
    FOR EACH ROW WHEN (NEW.status = 'open')
    EXECUTE FUNCTION case_may_close();
CREATE TRIGGER case_changed_may_close AFTER UPDATE ON cases
    FOR EACH ROW
    WHEN (NEW.status = 'open' AND (OLD.status IS DISTINCT FROM NEW.status
                                   OR OLD.released_on IS DISTINCT FROM NEW.released_on
                                   OR OLD.expected_release_on IS DISTINCT FROM NEW.expected_release_on))
    EXECUTE FUNCTION case_may_close();

INSERT INTO closing_candidates (case_id)
SELECT c.case_id FROM cases c
WHERE c.status = 'open'
  AND NOT EXISTS (SELECT 1 FROM condition_tasks t
                  WHERE t.case_id = c.case_id AND t.status IN ('unknown', 'needs_action', 'in_progress'));
