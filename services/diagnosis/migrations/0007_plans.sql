-- The individual support plan (IPW) the family agreed to, one per diagnosis. Every version is
-- kept with its goals (revisions keep the history); each goal's reviews are appended.
CREATE TABLE plans (
    plan_id             uuid PRIMARY KEY,
    diagnosis_id        uuid NOT NULL UNIQUE REFERENCES diagnoses,
    version             int NOT NULL,
    agreed_on           date NOT NULL,
    social_contract_on  date,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE plan_versions (
    plan_id             uuid NOT NULL REFERENCES plans,
    version             int NOT NULL,
    on_day              date NOT NULL,  -- agreed (version 1) or revised
    social_contract_on  date,
    author              text NOT NULL,
    at                  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (plan_id, version)
);

CREATE TABLE plan_goals (
    plan_id                     uuid NOT NULL,
    version                     int NOT NULL,
    goal_id                     uuid NOT NULL,
    position                    int NOT NULL,
    area                        text NOT NULL,
    member_id                   uuid,  -- a member of the household (intake's id); null: all of it
    responsible_institution_id  uuid,  -- null: the OPS itself
    due_on                      date NOT NULL,
    review_on                   date NOT NULL,
    supports                    uuid[] NOT NULL,  -- recommendation ids
    description                 text NOT NULL DEFAULT '',
    PRIMARY KEY (plan_id, version, goal_id),
    FOREIGN KEY (plan_id, version) REFERENCES plan_versions
);

CREATE TABLE goal_reviews (
    review_id    bigserial PRIMARY KEY,
    plan_id      uuid NOT NULL REFERENCES plans,
    goal_id      uuid NOT NULL,
    reviewed_on  date NOT NULL,
    result       text NOT NULL CHECK (result IN ('met', 'not_met', 'in_progress')),
    author       text NOT NULL,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX goal_reviews_plan ON goal_reviews (plan_id, goal_id, review_id);
