-- Retention (issue 16): a routing decision goes with its notice, kept until 6 months
-- (RCN_RETENTION_NOTICE_MONTHS) after the release of its episode, so the decision remembers the
-- release date its notice announced. Decisions from before this column count from the day the
-- notice was received.
ALTER TABLE decisions ADD COLUMN release_on date;
