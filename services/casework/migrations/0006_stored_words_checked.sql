-- Statuses, reasons, conditions, notice kinds and roles are Rust enums (rcn_contracts, stored as
-- text through rcn_contracts::sql and read back by sqlx's checked queries, which refuse a word
-- no variant has). The tables now refuse any other word too, so neither side can drift alone.
-- A new variant needs a migration that widens its CHECK here.
-- (condition_tasks.status and reminders.kind had their CHECKs from the start.)
ALTER TABLE cases
    ADD CONSTRAINT cases_status_known CHECK (status IN ('open', 'closed')),
    ADD CONSTRAINT cases_closed_reason_known CHECK (closed_reason IN (
        'completed', 'cancelled', 'moved_out_of_region', 'deceased', 'duplicate', 'other'));

ALTER TABLE condition_tasks
    ADD CONSTRAINT condition_tasks_condition_known CHECK (condition IN (
        'id', 'housing', 'income', 'debts', 'care', 'social_network'));

ALTER TABLE task_history
    ADD CONSTRAINT task_history_statuses_known CHECK (
        from_status IN ('unknown', 'needs_action', 'in_progress', 'arranged', 'not_applicable')
        AND to_status IN ('unknown', 'needs_action', 'in_progress', 'arranged', 'not_applicable'));

ALTER TABLE case_notices
    ADD CONSTRAINT case_notices_kind_known CHECK (kind IN (
        'detention_started', 'update', 'release_planned', 'release_date_changed',
        'released_unexpectedly', 'transferred', 'cancelled'));

-- Adding a constraint changes no row, so the append-only access log allows it.
ALTER TABLE access_log
    ADD CONSTRAINT access_log_role_known CHECK (role IN (
        'municipal_staff', 'rcn_coordinator', 'procesregisseur'));
