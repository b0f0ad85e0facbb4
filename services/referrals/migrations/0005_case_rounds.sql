-- The case's rounds, from intake's events (1 from the opening, +1 at each reopening). A referral
-- belongs to the round of the diagnosis that planned it; a closing ends its round, so it cancels
-- the referrals of that round and earlier ones, and a diagnosis of a round known closed routes
-- nothing, whatever the order the events arrive in.
ALTER TABLE referrals ADD COLUMN round int NOT NULL DEFAULT 1 CHECK (round >= 1);
ALTER TABLE case_status ADD COLUMN closed_round int NOT NULL DEFAULT 0;
UPDATE case_status SET closed_round = 1 WHERE closed;

-- A case has one live referral per support type: a recommendation of a type the case already
-- has open or waiting (the same support recommended under another need, from a producer that
-- did not merge them) joins that support instead of being routed a second time.
CREATE TABLE merged_recommendations (
    recommendation_id  uuid PRIMARY KEY,
    case_id            uuid NOT NULL,
    into_recommendation uuid NOT NULL,
    merged_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX referrals_case_support_live ON referrals (case_id, support_type)
    WHERE state IN ('assigned', 'accepted', 'unassignable');
