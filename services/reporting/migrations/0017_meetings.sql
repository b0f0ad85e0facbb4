-- The partnerships' meetings (meeting.held.v1, each version of a meeting stating all it knows):
-- the meeting, the institutions that attended with their sectors, the cases discussed. Every
-- column merges by a rule (services/reporting/domain.py), so versions may arrive in any order.
CREATE TABLE meeting_facts (
    meeting_id  uuid PRIMARY KEY,
    gmina       char(7),
    powiat      char(4),
    region      char(2),
    variant     text,
    held_on     date,
    version     int
);

CREATE TABLE meeting_attendance_facts (
    meeting_id      uuid,
    institution_id  uuid,
    gmina           char(7),
    powiat          char(4),
    region          char(2),
    variant         text,
    held_on         date,
    sector          text,
    PRIMARY KEY (meeting_id, institution_id)
);

CREATE TABLE meeting_case_facts (
    meeting_id  uuid,
    case_id     uuid,
    gmina       char(7),
    powiat      char(4),
    region      char(2),
    variant     text,
    held_on     date,
    PRIMARY KEY (meeting_id, case_id)
);
