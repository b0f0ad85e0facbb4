-- The append-only log of reads and changes of personal data (shared/audit_log.py): who, in which
-- role and institution, which case of which gmina, what and why. A service adds the columns of
-- its own (diagnosis: diagnosis_id). IF NOT EXISTS and OR REPLACE: databases made before this
-- migration have the table, its function and triggers from their service's own migrations.
CREATE TABLE IF NOT EXISTS audit_log (
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
CREATE INDEX IF NOT EXISTS audit_log_case ON audit_log (case_id, entry_id);
CREATE INDEX IF NOT EXISTS audit_log_gmina ON audit_log (gmina, at);

CREATE OR REPLACE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END $$;
CREATE OR REPLACE TRIGGER audit_log_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE OR REPLACE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
