-- A case's transitions are ordered by intake's sequence (the CloudEvents extension, counted per
-- case): two closings of one day are two rows, and the last transition decides the state
-- whatever the dates. Rows from before have no sequence (0); a rebuild gives them theirs.
ALTER TABLE case_transition_facts ADD COLUMN sequence bigint NOT NULL DEFAULT 0;
ALTER TABLE case_transition_facts DROP CONSTRAINT case_transition_facts_pkey;
ALTER TABLE case_transition_facts ADD PRIMARY KEY (case_id, on_day, kind, sequence);
-- The state of a case comes from its transitions alone; these kept only the latest of each.
ALTER TABLE case_facts DROP COLUMN closed_on, DROP COLUMN outcome, DROP COLUMN reopened_on;
