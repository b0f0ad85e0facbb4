-- A plan's version is followed by its diagnosis: its live referrals and the recommendations it
-- ever had are read by diagnosis_id for every plan.agreed.v1 / plan.revised.v1. Without an
-- index each read scanned every referral ever made (found by the preloaded bench: two
-- sequential scans of 200,000 rows per agreed plan).
CREATE INDEX IF NOT EXISTS referrals_diagnosis ON referrals (diagnosis_id);
