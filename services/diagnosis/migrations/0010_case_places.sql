-- Where each case is, as intake's events say (their place and per-case sequence): a case
-- transferred to another gmina's OPS (case.transferred.v1) takes its diagnosis and plan to that
-- gmina's PZK, coordinator and caseworkers, whichever of the case's events arrive first.
CREATE TABLE case_places (
    case_id   uuid PRIMARY KEY,
    gmina     char(7) NOT NULL,
    powiat    char(4) NOT NULL,
    region    char(2) NOT NULL,
    variant   text NOT NULL,
    sequence  bigint NOT NULL
);
