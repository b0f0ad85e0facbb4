-- Lifecycle, consent, interview summary and contact; history; idempotent POSTs;
-- access grants learnt from referrals; the append-only audit log of personal-data reads.

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

-- A retried POST with the same Idempotency-Key answers what the first one answered.
CREATE TABLE idempotency_keys (
    principal     text NOT NULL,
    key           text NOT NULL,
    request_hash  text NOT NULL,
    status        int NOT NULL,
    body          jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, key)
);

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

CREATE TABLE audit_log (
    entry_id     bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    subject      text NOT NULL,
    role         text NOT NULL,
    institution  uuid,
    case_id      uuid NOT NULL,
    gmina        char(7) NOT NULL,
    access       text NOT NULL,
    purpose      text NOT NULL
);
CREATE INDEX audit_log_case ON audit_log (case_id, entry_id);
CREATE INDEX audit_log_gmina ON audit_log (gmina, at);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END $$;
CREATE TRIGGER audit_log_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
