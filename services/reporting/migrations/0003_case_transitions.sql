-- Every closing and reopening of a case, so that `as_of` finds the state a case was in on any
-- day, even one closed, reopened and closed again (case_facts keeps only the latest of each).
CREATE TABLE case_transition_facts (
    case_id uuid NOT NULL,
    on_day  date NOT NULL,
    kind    text NOT NULL CHECK (kind IN ('closed', 'reopened')),
    outcome text,
    PRIMARY KEY (case_id, on_day, kind)
);
INSERT INTO case_transition_facts (case_id, on_day, kind, outcome)
    SELECT case_id, closed_on, 'closed', outcome FROM case_facts WHERE closed_on IS NOT NULL;
INSERT INTO case_transition_facts (case_id, on_day, kind)
    SELECT case_id, reopened_on, 'reopened' FROM case_facts WHERE reopened_on IS NOT NULL;
