-- The few cases that moved to another gmina, read apart from the rest by the case queries (a
-- case never transferred is read as stored, by the indexes on its place).
CREATE INDEX case_facts_transferred ON case_facts (case_id) WHERE transferred_on IS NOT NULL;
