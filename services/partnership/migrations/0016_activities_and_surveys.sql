-- The PZK's group activities and their sessions, and the members' survey: rounds, who has
-- answered a round (a hash of the respondent and the round: enough to refuse a second answer,
-- nothing else), and the answers only as counts per question and answer - no row per
-- respondent, no time, no order, so that no answer can be tied to who gave it.
CREATE TABLE activities (
    activity_id    uuid PRIMARY KEY,
    gmina          char(7) NOT NULL,
    activity_type  text NOT NULL,
    title          text NOT NULL,
    started_on     date NOT NULL,
    ended_on       date,
    created_by     text NOT NULL
);
CREATE INDEX activities_gmina ON activities (gmina, started_on);

CREATE TABLE activity_sessions (
    session_id   uuid PRIMARY KEY,
    activity_id  uuid NOT NULL REFERENCES activities,
    held_on      date NOT NULL,
    minutes      int NOT NULL CHECK (minutes > 0)
);
CREATE INDEX activity_sessions_activity ON activity_sessions (activity_id, held_on);

CREATE TABLE survey_rounds (
    round_id   uuid PRIMARY KEY,
    gmina      char(7) NOT NULL,
    opened_on  date NOT NULL,
    invited    int NOT NULL,
    closed_on  date
);
-- One open round per gmina at a time.
CREATE UNIQUE INDEX survey_rounds_one_open ON survey_rounds (gmina) WHERE closed_on IS NULL;

CREATE TABLE survey_respondents (
    round_id    uuid NOT NULL REFERENCES survey_rounds,
    respondent  text NOT NULL,  -- sha256 of the round and the respondent's subject
    PRIMARY KEY (round_id, respondent)
);

CREATE TABLE survey_answer_counts (
    round_id  uuid NOT NULL REFERENCES survey_rounds,
    question  text NOT NULL,
    answer    int NOT NULL CHECK (answer BETWEEN 1 AND 5),
    n         int NOT NULL CHECK (n >= 0),
    PRIMARY KEY (round_id, question, answer)
);
