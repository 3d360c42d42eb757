-- A reminder is raised once per task, kind and due date *for the municipality that works the
-- case* (issue 10): when a case moves to another municipality, the reminders the old one got
-- must be raised again for the new one, which was never told. So the municipality joins the key.
-- A trigger fills it in from the case when the inserting statement does not name it.
ALTER TABLE reminders ADD COLUMN gemeentecode text;
UPDATE reminders r SET gemeentecode = c.gemeentecode FROM cases c WHERE c.case_id = r.case_id;

CREATE FUNCTION reminders_for_the_cases_municipality() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
BEGIN
    IF NEW.gemeentecode IS NULL THEN
        SELECT gemeentecode INTO NEW.gemeentecode FROM cases WHERE case_id = NEW.case_id;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER reminders_municipality BEFORE INSERT ON reminders
    FOR EACH ROW EXECUTE FUNCTION reminders_for_the_cases_municipality();

ALTER TABLE reminders
    ALTER COLUMN gemeentecode SET NOT NULL,
    DROP CONSTRAINT reminders_pkey,
    ADD PRIMARY KEY (case_id, condition, kind, due_on, gemeentecode);
