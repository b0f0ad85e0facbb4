-- The PZK's group activities (activity.registered.v1, activity.session_held.v1), the
-- participants intake counts for them (activity.participation_changed.v1), the members' survey
-- rounds (survey.round_closed.v1: counts only) and the follow-ups of families after closing
-- (case.follow_up_recorded.v1). Every column merges by a rule (services/reporting/domain.py).
CREATE TABLE activity_facts (
    activity_id    uuid PRIMARY KEY,
    gmina          char(7),
    powiat         char(4),
    region         char(2),
    variant        text,
    activity_type  text,
    started_on     date
);

CREATE TABLE activity_session_facts (
    session_id     uuid PRIMARY KEY,
    activity_id    uuid,
    gmina          char(7),
    powiat         char(4),
    region         char(2),
    variant        text,
    activity_type  text,
    held_on        date,
    minutes        int
);

-- Each change of a case's participation, its own row keyed by intake's per-case sequence: the
-- state on a day is the latest change dated by then.
CREATE TABLE participation_facts (
    case_id               uuid,
    sequence              bigint,
    activity_id           uuid,
    gmina                 char(7),
    powiat                char(4),
    region                char(2),
    variant               text,
    activity_type         text,
    changed_on            date,
    participants          int,
    participants_in_type  int,
    PRIMARY KEY (case_id, sequence)
);

CREATE TABLE follow_up_facts (
    case_id        uuid,
    round          int,
    months         int,
    gmina          char(7),
    powiat         char(4),
    region         char(2),
    variant        text,
    follow_up_seq  bigint,
    closed_on      date,
    recorded_on    date,
    sustained      boolean,
    roles          text[],
    PRIMARY KEY (case_id, round, months)
);

CREATE TABLE survey_round_facts (
    round_id     uuid PRIMARY KEY,
    gmina        char(7),
    powiat       char(4),
    region       char(2),
    variant      text,
    opened_on    date,
    closed_on    date,
    invited      int,
    respondents  int,
    withheld     boolean
);

CREATE TABLE survey_answer_facts (
    round_id     uuid,
    question     text,
    answer       int,
    gmina        char(7),
    powiat       char(4),
    region       char(2),
    variant      text,
    closed_on    date,
    n            int,
    PRIMARY KEY (round_id, question, answer)
);
