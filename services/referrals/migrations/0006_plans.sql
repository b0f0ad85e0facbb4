-- The individual support plan (IPW) is routing's trigger: each plan.agreed.v1 / plan.revised.v1
-- carries the plan's full set of supports, and the latest version (by `version`) is what the
-- case's referrals follow, whatever the order the versions arrive in.
CREATE TABLE plan_versions (
    plan_id   uuid PRIMARY KEY,
    case_id   uuid NOT NULL,
    version   int NOT NULL,
    seen_at   timestamptz NOT NULL DEFAULT now()
);

-- The gmina whose social-assistance centre (OPS) an institution is: supports only the OPS may
-- decide (a financial benefit is its administrative decision) go to it and nowhere else.
ALTER TABLE institutions ADD COLUMN ops_gmina char(7);
CREATE UNIQUE INDEX institutions_one_active_ops_per_gmina ON institutions (ops_gmina)
    WHERE active AND ops_gmina IS NOT NULL;
