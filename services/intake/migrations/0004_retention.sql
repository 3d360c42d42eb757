-- Retention (issue 16): a receipt is kept until 6 months (RCN_RETENTION_NOTICE_MONTHS) after the
-- release of its episode, so the receipt remembers the release date its notice announced.
-- Receipts from before this column count from the day they were received.
ALTER TABLE receipts ADD COLUMN release_on date;
CREATE INDEX notice_outcomes_decided ON notice_outcomes (decided_at);
