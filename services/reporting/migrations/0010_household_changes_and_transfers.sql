-- The household of a case follows intake's latest word on it (the opening or a later
-- case.household_changed.v1), ordered by intake's per-case event sequence; existing rows
-- came from openings.
ALTER TABLE case_facts ADD COLUMN household_seq int;
UPDATE case_facts SET household_seq = 0 WHERE opened_on IS NOT NULL;

-- Every transfer of a case to another gmina's OPS (case.transferred.v1).
CREATE TABLE case_transfer_facts (
    case_id        uuid NOT NULL,
    transferred_on date NOT NULL,
    from_gmina     char(7) NOT NULL,
    to_gmina       char(7) NOT NULL,
    from_powiat    char(4),
    from_region    char(2),
    from_variant   text,
    to_powiat      char(4),
    to_region      char(2),
    to_variant     text,
    PRIMARY KEY (case_id, transferred_on, from_gmina, to_gmina)
);
CREATE INDEX case_transfer_facts_from ON case_transfer_facts (from_region, from_gmina);
CREATE INDEX case_transfer_facts_to ON case_transfer_facts (to_region, to_gmina);
