-- The rule a decision names is a Rust enum (rcn_contracts::events::RoutingRule, stored through
-- rcn_contracts::sql and read back by sqlx's checked queries); the table now refuses any other
-- word too, so neither side can drift alone. (The outcome columns had their CHECKs.)
ALTER TABLE decisions ADD CONSTRAINT decisions_rule_known CHECK (rule IN (
    'brp_registration', 'address_lookup', 'pc4_table', 'manual', 'no_rule'));
