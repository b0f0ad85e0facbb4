-- PZK membership belongs to the partnership service now: this table mirrors the members its
-- partnership.changed.v1 announces (routing prefers them). Rows an installation had before the
-- upgrade stay until the partnership service's first announcement of the gmina replaces them
-- (it seeds itself from referrals' earlier announcements, so they agree meanwhile).
ALTER TABLE partnerships DROP CONSTRAINT IF EXISTS partnerships_institution_id_fkey;

CREATE TABLE partnership_versions (
    gmina  char(7) PRIMARY KEY,
    as_of  timestamptz NOT NULL
);
