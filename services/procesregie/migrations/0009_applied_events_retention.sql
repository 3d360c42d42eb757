-- Retention of the ids of casework's events procesregie applied (issue 16). They hold no personal
-- data and are kept only so a redelivered event changes nothing; once CASES has dropped an event
-- (its maximum age, as `rcn provision` sets it from the retention policy) it cannot come again,
-- and the retention job forgets its id, oldest first. The index lets the job find them without
-- reading the whole table every batch.
CREATE INDEX applied_events_applied_at ON applied_events (applied_at);
