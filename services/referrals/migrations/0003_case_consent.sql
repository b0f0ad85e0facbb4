-- The family's consent to share data within the PZK, from intake's events: withdrawn
-- (case.consent_withdrawn.v1, RODO art. 7(3)) or given again (case.consent_given.v1). While it is
-- withdrawn nothing of the case is routed: referrals not yet accepted are cancelled with the
-- reason consent_withdrawn, and recommendations that arrive meanwhile are held the same way;
-- consent given again routes them. `sequence` is intake's per-case counter: of the two events
-- the later stands, whatever the order they arrive in.
CREATE TABLE case_consent (
    case_id     uuid PRIMARY KEY,
    shared      boolean NOT NULL,
    sequence    bigint NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX referrals_held_for_consent ON referrals (case_id)
    WHERE cancel_reason = 'consent_withdrawn';
