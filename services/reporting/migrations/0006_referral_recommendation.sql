-- The recommendation each referral is an attempt at (from support.assigned.v1): a support is a
-- recommendation that reached an institution, however many referrals its routing took.
-- Rows from before count as a support each until a rebuild fills the column.
ALTER TABLE referral_facts ADD COLUMN recommendation_id uuid;
