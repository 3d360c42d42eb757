-- A person's role is the contract's `Role`, stored as its word and read back as the enum: the
-- table lists the same words, so neither side can drift alone (a new role needs a migration
-- widening this CHECK).
ALTER TABLE portal_users ADD CONSTRAINT portal_users_role
    CHECK (role IN ('municipal_staff', 'rcn_coordinator', 'procesregisseur', 'privacy_officer', 'administrator'));
