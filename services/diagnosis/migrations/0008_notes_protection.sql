-- Diagnosis notes are special-category data (RODO art. 9: health, addiction, violence).
-- The consent's sectors, from intake's events (empty: every sector of the PZK), decide which
-- team members may read them; every read of them is written to an append-only audit log; intake's
-- retention (case.anonymised.v1) erases them with the plan's goals in words.
ALTER TABLE case_consent ADD COLUMN scope text[] NOT NULL DEFAULT '{}';

ALTER TABLE diagnoses ADD COLUMN anonymised_at timestamptz;

-- The shared audit_log (shared/migrations/0003_audit_log.sql) names the diagnosis too.
ALTER TABLE audit_log ADD COLUMN diagnosis_id uuid NOT NULL;
