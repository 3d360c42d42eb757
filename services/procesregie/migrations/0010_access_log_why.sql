-- "Who saw this person" answers who, role, organisation, when, what *and why* (issue 16). Reads
-- of procesregie's records now carry the reason the caller gave (the portal names its page, e.g.
-- "Casus bekijken"), as casework's access log has since its 0003 and the router's since its
-- 0006. Nullable: rows written before this migration, and reads whose caller gave no reason,
-- have none. Adding a column changes no row; the table stays append-only.
--
-- The length limit is the contracts' (rcn_contracts::access_log::MAX_WHY, 500 characters, one
-- line), checked by the service before it reads; the constraint keeps the table to it whatever
-- writes here.
ALTER TABLE access_log ADD COLUMN why text
    CHECK (why IS NULL OR (char_length(why) <= 500 AND btrim(why) <> ''));
