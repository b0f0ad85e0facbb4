-- The case's rounds, from intake's events (1 from the opening, +1 at each reopening). A referral
-- belongs to the round of the diagnosis that planned it; a closing ends its round, so it cancels
-- the referrals of that round and earlier ones, and a diagnosis of a round known closed routes
-- nothing, whatever the order the events arrive in.
ALTER TABLE referrals ADD COLUMN round int NOT NULL DEFAULT 1 CHECK (round >= 1);
ALTER TABLE case_status ADD COLUMN closed_round int NOT NULL DEFAULT 0;
UPDATE case_status SET closed_round = 1 WHERE closed;
