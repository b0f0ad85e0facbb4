-- Cases transferred to another gmina's OPS (case.transferred.v1): where each is now, by intake's
-- per-case sequence. Every referral keeps the place it was made in (its events say so); the
-- case's referrals are read by the staff of the gmina the case is in now.
CREATE TABLE case_places (
    case_id   uuid PRIMARY KEY,
    gmina     char(7) NOT NULL,
    powiat    char(4) NOT NULL,
    region    char(2) NOT NULL,
    variant   text NOT NULL,
    sequence  bigint NOT NULL
);
CREATE INDEX case_places_gmina ON case_places (gmina);
