-- "Who saw this person" (issue 16) must keep answering after retention has deleted a closed ICO
-- and its application: the access log is kept years longer than what it covers. So each row
-- carries the person pseudonym it is about, taken when the read is logged (access::log_reads:
-- the application's, else that of the case as procesregie watches it), and the answer finds the
-- person's rows by it (access_log_person) instead of through applications, ICOs and cases.
ALTER TABLE access_log ADD COLUMN person_key text;

-- Back-fill the rows written before this migration from the records they are about, the same
-- way. The table is append-only (access_log_append_only refuses every UPDATE, and the retention
-- switch only lets DELETE by), so the trigger is disabled for this one statement and enabled
-- again, inside the migration's transaction: ALTER TABLE holds an exclusive lock until commit,
-- so no other write can slip in while it is off, and a failure leaves the trigger as it was.
-- Only the new column is filled; nothing a row already said changes.
ALTER TABLE access_log DISABLE TRIGGER access_log_append_only;
UPDATE access_log l SET person_key = k.person_key
  FROM (SELECT a.id, COALESCE(ap.person_key, w.person_key) AS person_key
          FROM access_log a
          LEFT JOIN icos i ON i.ico_id = a.ico_id
          LEFT JOIN applications ap ON ap.application_id = COALESCE(a.application_id, i.application_id)
          LEFT JOIN watched_cases w ON w.case_id = COALESCE(a.case_id, ap.case_id)) k
 WHERE k.id = l.id AND k.person_key IS NOT NULL;
ALTER TABLE access_log ENABLE TRIGGER access_log_append_only;

-- Nullable on purpose: a row cannot be back-filled when what it is about is already gone, and a
-- read can happen before procesregie knows whom it is about (an application without a BSN yet,
-- a case whose pseudonym arrives with a later CASES event). The answer still finds those rows
-- through the records while they exist (privacy::entries).
CREATE INDEX access_log_person ON access_log (person_key, at);
