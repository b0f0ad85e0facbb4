-- The follow-up of a family 3 and 6 months after its case closed (one per round and month;
-- recording it again corrects it), and which members of a case take part in the PZK's group
-- activities (known here only: other services get counts).
CREATE TABLE case_follow_ups (
    case_id      uuid NOT NULL REFERENCES cases,
    round        int NOT NULL CHECK (round >= 1),
    months       int NOT NULL CHECK (months IN (3, 6)),
    closed_on    date NOT NULL,
    recorded_on  date NOT NULL,
    sustained    boolean NOT NULL,
    roles        text[] NOT NULL DEFAULT '{}',
    recorded_by  text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, round, months)
);

-- The group activities intake knows of, from activity.registered.v1 (type and gmina only).
CREATE TABLE known_activities (
    activity_id    uuid PRIMARY KEY,
    activity_type  text NOT NULL,
    gmina          char(7) NOT NULL
);

CREATE TABLE activity_participants (
    activity_id  uuid NOT NULL REFERENCES known_activities,
    person_id    uuid NOT NULL REFERENCES members,
    case_id      uuid NOT NULL REFERENCES cases,
    joined_on    date NOT NULL,
    added_by     text NOT NULL,
    PRIMARY KEY (activity_id, person_id)
);
CREATE INDEX activity_participants_case ON activity_participants (case_id);
