-- Retention of what procesregie knows of casework's cases (issue 16). A watched case goes, with
-- its conditions, overdue reminders and suggestions, RCN_RETENTION_CASE_YEARS after casework
-- closed it, as casework's own case does; so procesregie keeps when and why it closed, from
-- `case_closed` (a reopening, a new `case_opened`, clears both). The reason also ends what the
-- municipality sees of the case here, as in casework: closed as moved out of the region or
-- cancelled, its suggestions are no longer listed to its staff.
--
-- Cases closed before this migration get the migration's time: their clock starts now, never
-- earlier than the truth (a case is kept longer, never shorter).
ALTER TABLE watched_cases
    ADD COLUMN closed_at     timestamptz,
    ADD COLUMN closed_reason text;
UPDATE watched_cases SET closed_at = now() WHERE NOT open;
ALTER TABLE watched_cases
    ADD CONSTRAINT watched_cases_closed_at_when_closed CHECK (open = (closed_at IS NULL));
CREATE INDEX watched_cases_closed_at ON watched_cases (closed_at) WHERE NOT open;
CREATE INDEX suggestions_case ON suggestions (case_id);
