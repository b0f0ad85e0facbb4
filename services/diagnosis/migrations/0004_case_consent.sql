-- The family's consent to share data within the PZK, as intake's events tell it: given
-- (case.consent_given.v1) or withdrawn (case.consent_withdrawn.v1, RODO art. 7(3)). `sequence` is
-- intake's per-case counter, so that of a withdrawal and a consent given again the later stands
-- whatever the order they arrive in. A case opened with consent and never changed has no row.
CREATE TABLE case_consent (
    case_id     uuid PRIMARY KEY,
    shared      boolean NOT NULL,
    on_day      date NOT NULL,
    sequence    bigint NOT NULL
);
