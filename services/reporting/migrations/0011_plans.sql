-- The individual support plans (IPW) families agreed to (plan.agreed.v1, plan.revised.v1) and
-- their goals: by need area, and by their latest review (plan.goal_reviewed.v1). Every column
-- merges by a rule (services/reporting/domain.py), so any order of arrival gives the same rows.
CREATE TABLE plan_facts (
    plan_id             uuid PRIMARY KEY,
    case_id             uuid,
    gmina               char(7),
    powiat              char(4),
    region              char(2),
    variant             text,
    agreed_on           date,
    social_contract_on  date,
    version             int
);
CREATE INDEX plan_facts_region ON plan_facts (region);

CREATE TABLE goal_facts (
    goal_id      uuid PRIMARY KEY,
    plan_id      uuid,
    case_id      uuid,
    gmina        char(7),
    powiat       char(4),
    region       char(2),
    variant      text,
    area         text,
    planned_on   date,
    dropped_on   date,
    reviewed_on  date,
    result       text
);
CREATE INDEX goal_facts_region ON goal_facts (region);
