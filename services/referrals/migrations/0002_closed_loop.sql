-- Capacity per support type; the institution's single `capacity` is the default for the rest.
ALTER TABLE institutions ADD COLUMN capacity_by_type jsonb NOT NULL DEFAULT '{}';

ALTER TABLE referrals
    ADD COLUMN accepted_at            timestamptz,
    ADD COLUMN closed_at              timestamptz,
    ADD COLUMN decline_reason         text,
    ADD COLUMN outcome                text,
    ADD COLUMN cancel_reason          text,
    -- Each deadline is reported once: these record that its support.overdue.v1 was emitted.
    ADD COLUMN acceptance_overdue_at  timestamptz,
    ADD COLUMN completion_overdue_at  timestamptz;

-- A recommendation has at most one live referral; declined and cancelled ones are history.
CREATE UNIQUE INDEX referrals_one_live_per_recommendation ON referrals (recommendation_id)
    WHERE state IN ('assigned', 'accepted', 'completed', 'unassignable');

-- What the deadline watch claims.
CREATE INDEX referrals_due_acceptance ON referrals (accept_by)
    WHERE state = 'assigned' AND acceptance_overdue_at IS NULL;
CREATE INDEX referrals_due_completion ON referrals (complete_by)
    WHERE state = 'accepted' AND completion_overdue_at IS NULL;
CREATE INDEX referrals_waiting ON referrals (support_type, priority, created_at)
    WHERE state = 'unassignable';

-- Cases closed (or reopened) in intake: nothing is routed for a closed case, even when a
-- diagnosis event arrives after the closure. `sequence` is intake's per-case event counter, so
-- that a closure arriving after a later reopening does not close the case again.
CREATE TABLE case_status (
    case_id     uuid PRIMARY KEY,
    closed      boolean NOT NULL,
    sequence    bigint,
    changed_at  timestamptz NOT NULL DEFAULT now()
);

-- Recommendations dropped by a revision, remembered so that a late diagnosis.completed.v1
-- does not route them again.
CREATE TABLE dropped_recommendations (
    recommendation_id  uuid PRIMARY KEY,
    case_id            uuid NOT NULL,
    dropped_at         timestamptz NOT NULL DEFAULT now()
);

-- The load of each candidate institution, read on every routing decision.
CREATE INDEX referrals_open_load ON referrals (institution_id, support_type)
    WHERE state IN ('assigned', 'accepted');
