CREATE TABLE diagnoses (
    diagnosis_id  uuid PRIMARY KEY,
    case_id       uuid NOT NULL UNIQUE,
    gmina         char(7) NOT NULL,
    powiat        char(4) NOT NULL,
    region        char(2) NOT NULL,
    variant       text NOT NULL,
    status        text NOT NULL DEFAULT 'open'
                  CHECK (status IN ('open', 'completed', 'cancelled')),
    opened_at     timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz
);
CREATE INDEX diagnoses_gmina_status ON diagnoses (gmina, status);

CREATE TABLE assessments (
    assessment_id   uuid PRIMARY KEY,
    diagnosis_id    uuid NOT NULL REFERENCES diagnoses,
    institution_id  uuid,
    author          text NOT NULL,
    need_area       text NOT NULL,
    severity        int NOT NULL CHECK (severity BETWEEN 1 AND 3),
    notes           text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE recommendations (
    recommendation_id  uuid PRIMARY KEY,
    assessment_id      uuid NOT NULL REFERENCES assessments,
    support_type       text NOT NULL,
    priority           int NOT NULL CHECK (priority BETWEEN 1 AND 3)
);

-- Cases closed before their case.opened.v1 arrived (events may come out of order).
CREATE TABLE closed_cases (
    case_id  uuid PRIMARY KEY
);
