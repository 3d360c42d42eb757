-- "Who saw this person" (issue 16) must keep answering after retention has deleted a closed
-- case: the access log is kept years longer than the cases it covers. So each row carries the
-- person pseudonym it is about (the case's person_key when the read was logged), and the answer
-- finds the person's rows by it (access_log_person) instead of through `cases`.
ALTER TABLE access_log ADD COLUMN person_key text;

-- Back-fill the rows written before this migration from their cases. The table is append-only
-- (access_log_append_only refuses every UPDATE, and the retention switch only lets DELETE by),
-- so the trigger is disabled for this one statement and enabled again, inside the migration's
-- transaction: ALTER TABLE holds an exclusive lock until commit, so no other write can slip in
-- while it is off, and a failure leaves the trigger as it was. Only the new column is filled;
-- nothing a row already said changes.
ALTER TABLE access_log DISABLE TRIGGER access_log_append_only;
UPDATE access_log a SET person_key = c.person_key FROM cases c WHERE c.case_id = a.case_id;
ALTER TABLE access_log ENABLE TRIGGER access_log_append_only;

-- Nullable on purpose: rows whose case retention had already deleted before this migration have
-- no case left to learn the pseudonym from (they cannot be found by person, as before). Every
-- row written from now on carries it (access::log_reads takes it from the case it logs).
CREATE INDEX access_log_person ON access_log (person_key, at);
