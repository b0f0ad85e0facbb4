-- The case's rounds, from intake's events: a reopening starts the next round, in which the
-- diagnosis is open again for review; a closing ends a round. `closed_round` is the latest round
-- known closed, so that events arriving in any order settle on the same state.
ALTER TABLE diagnoses ADD COLUMN round int NOT NULL DEFAULT 1 CHECK (round >= 1);
ALTER TABLE closed_cases ADD COLUMN closed_round int NOT NULL DEFAULT 0;
UPDATE closed_cases SET closed_round = 1 WHERE closed;

-- The round each recommendation was made in: within a round the plan holds one support per
-- support type (recommended under several needs, it answers them all); a later round plans anew.
ALTER TABLE assessments ADD COLUMN round int NOT NULL DEFAULT 1;
ALTER TABLE revision_changes ADD COLUMN round int NOT NULL DEFAULT 1;
