-- Facts of every event, each column with a merge rule (services/reporting/domain.py), so that
-- the projection is the same whatever order and however many times the events arrive.
-- Business dates (opened_on, closed_on, ...) let `as_of` cut the figures at the end of a day.
ALTER TABLE case_facts
    ADD COLUMN age_bands     jsonb,
    ADD COLUMN reasons       text[],
    ADD COLUMN notified_by   text,
    ADD COLUMN reopened_on   date,
    ADD COLUMN diagnosed_on  date,
    ADD COLUMN need_revision int,
    ADD COLUMN need_areas    text[];
CREATE INDEX case_facts_region ON case_facts (region);

ALTER TABLE referral_facts
    ALTER COLUMN support_type DROP NOT NULL,
    ALTER COLUMN state DROP NOT NULL,
    ADD COLUMN attempt         int,
    ADD COLUMN seen_on         date,
    ADD COLUMN assigned_on     date,
    ADD COLUMN accepted_on     date,
    ADD COLUMN declined_on     date,
    ADD COLUMN decline_reason  text,
    ADD COLUMN completed_on    date,
    ADD COLUMN support_outcome text,
    ADD COLUMN cancelled_on    date,
    ADD COLUMN overdue_on      date;
-- The state is derived as of a day from the dates, so the state column gives way to them.
UPDATE referral_facts SET assigned_on = assigned_at::date, seen_on = assigned_at::date;
ALTER TABLE referral_facts DROP COLUMN state, DROP COLUMN assigned_at;
CREATE INDEX referral_facts_region ON referral_facts (region);

-- A recommendation no institution in the area could take: an unmet need.
CREATE TABLE unmet_need_facts (
    recommendation_id uuid PRIMARY KEY,
    case_id           uuid NOT NULL,
    gmina             char(7) NOT NULL,
    powiat            char(4) NOT NULL,
    region            char(2) NOT NULL,
    variant           text NOT NULL,
    support_type      text,
    recorded_on       date
);

-- An institution that took part in a gmina's work (diagnosis or accepted referral):
-- the breadth of cooperation.
CREATE TABLE engagement_facts (
    gmina          char(7) NOT NULL,
    institution_id uuid NOT NULL,
    powiat         char(4) NOT NULL,
    region         char(2) NOT NULL,
    variant        text NOT NULL,
    sector         text,
    engaged_on     date,
    PRIMARY KEY (gmina, institution_id)
);

-- The sector of each institution from the directory, for engagements known from a diagnosis.
CREATE TABLE institution_facts (
    institution_id uuid PRIMARY KEY,
    seen_at        timestamptz,
    sector         text
);
