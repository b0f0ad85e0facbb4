-- One row per case and per referral, projected from events; aggregates are queries over them.
-- Every event carries its place, so a referral event arriving before its case event is kept.
CREATE TABLE case_facts (
    case_id         uuid PRIMARY KEY,
    gmina           char(7) NOT NULL,
    powiat          char(4) NOT NULL,
    region          char(2) NOT NULL,
    variant         text NOT NULL,
    opened_on       date,
    household_size  int,
    closed_on       date,
    outcome         text
);
CREATE INDEX case_facts_gmina ON case_facts (gmina);

CREATE TABLE referral_facts (
    referral_id     uuid PRIMARY KEY,
    case_id         uuid NOT NULL,
    gmina           char(7) NOT NULL,
    powiat          char(4) NOT NULL,
    region          char(2) NOT NULL,
    variant         text NOT NULL,
    support_type    text NOT NULL,
    institution_id  uuid,
    sector          text,
    state           text NOT NULL,
    assigned_at     timestamptz
);
CREATE INDEX referral_facts_gmina ON referral_facts (gmina);
