-- Who sits on each gmina's PZK and which institutions are active, learnt from referrals' events;
-- revisions of completed diagnoses; the case's last known open/closed state, by event sequence.

CREATE TABLE partnerships (
    gmina                    char(7) PRIMARY KEY,
    institutions             uuid[] NOT NULL,
    coordinator_institution  uuid,
    as_of                    timestamptz NOT NULL  -- time of the event this row reflects
);

CREATE TABLE institutions (
    institution_id  uuid PRIMARY KEY,
    name            text NOT NULL,
    sector          text NOT NULL,
    active          boolean NOT NULL,
    as_of           timestamptz NOT NULL
);

ALTER TABLE diagnoses
    ADD COLUMN revision    int NOT NULL DEFAULT 1,
    ADD COLUMN revised_at  timestamptz;

-- Recommendations added or dropped by revisions (those of the assessments stay where they are).
CREATE TABLE revision_changes (
    recommendation_id  uuid NOT NULL,
    diagnosis_id       uuid NOT NULL REFERENCES diagnoses,
    revision           int NOT NULL,
    change             text NOT NULL CHECK (change IN ('added', 'dropped')),
    support_type       text,
    need_area          text,
    priority           int,
    PRIMARY KEY (recommendation_id, change)
);
CREATE INDEX revision_changes_diagnosis ON revision_changes (diagnosis_id);

-- closed_cases becomes the last known state of the case: closed or reopened, at which sequence,
-- so that a close and a reopen arriving out of order settle on the later one.
ALTER TABLE closed_cases
    ADD COLUMN closed    boolean NOT NULL DEFAULT true,
    ADD COLUMN sequence  bigint NOT NULL DEFAULT 0;
