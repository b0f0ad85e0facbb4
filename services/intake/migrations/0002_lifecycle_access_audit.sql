-- Lifecycle, consent, interview summary and contact; history; access grants learnt from referrals.
-- (Idempotent POSTs and the audit log: shared/migrations.)

ALTER TABLE cases
    ADD COLUMN interview_summary text NOT NULL DEFAULT '',
    ADD COLUMN consent_given_on  date,
    ADD COLUMN consent_scope     text[] NOT NULL DEFAULT '{}',
    ADD COLUMN outcome           text,
    ADD COLUMN closed_on         date,
    ADD COLUMN updated_at        timestamptz NOT NULL DEFAULT now(),
    ADD CONSTRAINT cases_status_known
        CHECK (status IN ('opened', 'in_diagnosis', 'in_support', 'closed', 'reopened'));
UPDATE cases SET consent_given_on = opened_on WHERE consent_to_share;
CREATE INDEX cases_gmina_opened_on ON cases (gmina, opened_on);

ALTER TABLE members
    ADD COLUMN phone    text,
    ADD COLUMN email    text,
    ADD COLUMN address  text;

CREATE TABLE case_history (
    entry_id     bigserial PRIMARY KEY,
    case_id      uuid NOT NULL REFERENCES cases,
    at           timestamptz NOT NULL DEFAULT now(),
    step         text NOT NULL,
    from_status  text,
    to_status    text NOT NULL,
    actor        text NOT NULL,
    outcome      text
);
CREATE INDEX case_history_case ON case_history (case_id, entry_id);

-- One row per referral: granted on referral.accepted.v1, revoked when the support ends.
-- A revocation that arrives before its acceptance is kept, so the late acceptance grants nothing.
CREATE TABLE access_grants (
    referral_id     uuid PRIMARY KEY,
    case_id         uuid NOT NULL,
    institution_id  uuid NOT NULL,
    sector          text,
    granted_at      timestamptz,
    revoked_at      timestamptz
);
CREATE INDEX access_grants_case_institution ON access_grants (case_id, institution_id);

-- audit_log: shared/migrations/0003_audit_log.sql.
