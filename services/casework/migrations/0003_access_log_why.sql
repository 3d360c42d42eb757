-- Why a read happened, when the reader said (the privacy officer asks "who saw this person, and
-- why"). Nullable: most reads (the inbox, a task's history) carry no reason. The table stays
-- append-only; adding a column changes no row.
ALTER TABLE access_log ADD COLUMN why text;
