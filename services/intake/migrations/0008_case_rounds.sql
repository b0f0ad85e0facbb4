-- A case's round: 1 from its opening, one more at each reopening. Intake's events carry it, so
-- that the other services can tell a diagnosis or a closing of this round from an earlier one's,
-- whatever the order the events reach them in.
ALTER TABLE cases ADD COLUMN round int NOT NULL DEFAULT 1 CHECK (round >= 1);
UPDATE cases c SET round = 1 + h.reopenings
FROM (SELECT case_id, count(*) AS reopenings FROM case_history WHERE step = 'reopen'
      GROUP BY case_id) h
WHERE h.case_id = c.case_id;
