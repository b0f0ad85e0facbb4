-- A case's place follows intake's latest word on it, a transfer to another gmina included
-- (ordered by intake's per-case sequence, `place_seq`); `transferred_on` marks a case that
-- moved, whose place on a given day the queries find among its transfers (ordered by their
-- own sequence).
ALTER TABLE case_facts ADD COLUMN place_seq bigint, ADD COLUMN transferred_on date;
ALTER TABLE case_transfer_facts ADD COLUMN sequence bigint NOT NULL DEFAULT 0;
-- Rows from before: the place of a case that moved is that of its latest transfer (by day);
-- one rebuild gives every row its sequences.
UPDATE case_facts c
SET gmina = t.to_gmina, powiat = t.to_powiat, region = t.to_region, variant = t.to_variant,
    transferred_on = t.transferred_on
FROM (SELECT DISTINCT ON (case_id) * FROM case_transfer_facts
      ORDER BY case_id, transferred_on DESC) t
WHERE t.case_id = c.case_id;
UPDATE case_facts SET place_seq = 0 WHERE opened_on IS NOT NULL;

-- A plan's goals count where the plan's latest version holding them was made (a plan revised
-- after its case moved goes on in the receiving gmina), as the plan does.
ALTER TABLE goal_facts ADD COLUMN version int;
UPDATE goal_facts g SET version = p.version FROM plan_facts p WHERE p.plan_id = g.plan_id;
