-- The partnership's meetings: date, agenda, attendance by institution, the cases discussed
-- (ids), decisions and minutes. Agenda, minutes and a decision's words stay in this service.
CREATE TABLE meetings (
    meeting_id      uuid PRIMARY KEY,
    partnership_id  uuid NOT NULL REFERENCES partnerships,
    held_on         date NOT NULL,
    agenda          text NOT NULL DEFAULT '',
    minutes         text NOT NULL DEFAULT '',
    -- Bumped when a decision or a case is added: meeting.held.v1 carries it.
    version         int NOT NULL DEFAULT 1,
    recorded_by     text NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX meetings_partnership ON meetings (partnership_id, held_on);

CREATE TABLE meeting_attendance (
    meeting_id      uuid NOT NULL REFERENCES meetings,
    institution_id  uuid NOT NULL,
    -- The institution's sector when it attended (from the directory), for reporting.
    sector          text NOT NULL,
    PRIMARY KEY (meeting_id, institution_id)
);

CREATE TABLE meeting_cases (
    meeting_id  uuid NOT NULL REFERENCES meetings,
    case_id     uuid NOT NULL,
    PRIMARY KEY (meeting_id, case_id)
);
CREATE INDEX meeting_cases_case ON meeting_cases (case_id);

CREATE TABLE meeting_decisions (
    decision_id     uuid PRIMARY KEY,
    meeting_id      uuid NOT NULL REFERENCES meetings,
    kind            text NOT NULL
                    CHECK (kind IN ('diagnosis_agreed', 'plan_agreed', 'referral_agreed', 'other')),
    case_id         uuid,
    institution_id  uuid,
    support_type    text,
    description     text NOT NULL DEFAULT '',
    recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX meeting_decisions_case ON meeting_decisions (case_id);
