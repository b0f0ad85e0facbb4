-- A goal's review may say in words how the goal stands (e.g. why it is not met). Like a goal's
-- description it stays in diagnosis, never in an event, and intake's retention erases it.
ALTER TABLE goal_reviews ADD COLUMN note text NOT NULL DEFAULT '';
