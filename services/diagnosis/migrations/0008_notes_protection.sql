-- Diagnosis notes are special-category data (RODO art. 9: health, addiction, violence).
-- The consent's sectors, from intake's events (empty: every sector of the PZK), decide which
-- team members may read them; every read of them is written to an append-only audit log; intake's
-- retention (case.anonymised.v1) erases them with the plan's goals in words.
ALTER TABLE case_consent ADD COLUMN scope text[] NOT NULL DEFAULT '{}';

ALTER TABLE diagnoses ADD COLUMN anonymised_at timestamptz;

CREATE TABLE audit_log (
    entry_id      bigserial PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    subject       text NOT NULL,
    role          text NOT NULL,
    institution   uuid,
    diagnosis_id  uuid NOT NULL,
    case_id       uuid NOT NULL,
    gmina         char(7) NOT NULL,
    access        text NOT NULL,
    purpose       text NOT NULL
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
