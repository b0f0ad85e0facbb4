CREATE TABLE cases (
    case_id           uuid PRIMARY KEY,
    gmina             char(7) NOT NULL,
    status            text NOT NULL DEFAULT 'opened',
    reasons           text[] NOT NULL,
    notified_by       text NOT NULL,
    consent_to_share  boolean NOT NULL,
    opened_on         date NOT NULL,
    opened_by         text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cases_gmina_status ON cases (gmina, status);

CREATE TABLE members (
    person_id    uuid PRIMARY KEY,
    case_id      uuid NOT NULL REFERENCES cases ON DELETE CASCADE,
    position     int NOT NULL,
    first_name   text NOT NULL,
    last_name    text NOT NULL,
    birth_date   date NOT NULL,
    sex          char(1) NOT NULL CHECK (sex IN ('F', 'M')),
    relation     text NOT NULL,
    pesel        char(11),
    UNIQUE (case_id, position)
);
CREATE INDEX members_pesel ON members (pesel) WHERE pesel IS NOT NULL;
