-- The words intake stores for a notice's kind and a decision's rule are Rust enums
-- (rcn_contracts::sql), read back through sqlx's checked queries; the table now refuses any
-- other word too, so neither side can drift alone. (notice_outcomes.outcome had its CHECK.)
ALTER TABLE receipts ADD CONSTRAINT receipts_kind_known CHECK (kind IN (
    'detention_started', 'update', 'release_planned', 'release_date_changed',
    'released_unexpectedly', 'transferred', 'cancelled'));
ALTER TABLE notice_outcomes ADD CONSTRAINT notice_outcomes_rule_known CHECK (rule IN (
    'brp_registration', 'address_lookup', 'pc4_table', 'manual', 'no_rule'));
