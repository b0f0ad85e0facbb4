-- The partnership (G-PZK) of each gmina: its agreement, members with dated history, their
-- representatives (staff, personal data that never leaves this service), the roles and the
-- diagnostic team. One partnership per gmina, formed by a written agreement.

-- The institution directory as referrals publishes it (institution.* events): names and
-- sectors for the pages and for the sectors a meeting engages.
CREATE TABLE institutions (
    institution_id  uuid PRIMARY KEY,
    name            text NOT NULL,
    sector          text NOT NULL,
    gminas          text[] NOT NULL DEFAULT '{}',
    powiats         text[] NOT NULL DEFAULT '{}',
    active          boolean NOT NULL DEFAULT true,
    as_of           timestamptz NOT NULL
);

CREATE TABLE partnerships (
    partnership_id  uuid PRIMARY KEY,
    gmina           char(7) NOT NULL UNIQUE,
    powiat          char(4) NOT NULL,
    region          char(2) NOT NULL,
    -- Bumped on every change that partnership.changed.v1 carries.
    version         int NOT NULL DEFAULT 0,
    -- false while the membership only comes from referrals' earlier announcements (legacy.py)
    own_changes     boolean NOT NULL DEFAULT false,
    legacy_as_of    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- The written agreement; a new one (an annex, a renewal) is kept beside the earlier ones.
CREATE TABLE agreements (
    agreement_id    uuid PRIMARY KEY,
    partnership_id  uuid NOT NULL REFERENCES partnerships,
    signed_on       date NOT NULL,
    valid_from      date NOT NULL,
    valid_until     date,
    -- The local governments that signed besides the institutions (TERYT codes).
    gmina_signed    boolean NOT NULL DEFAULT true,
    powiat_signed   boolean NOT NULL DEFAULT true,
    documents       text[] NOT NULL DEFAULT '{}',
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (valid_until IS NULL OR valid_until >= valid_from)
);
CREATE INDEX agreements_partnership ON agreements (partnership_id, signed_on);

CREATE TABLE agreement_parties (
    agreement_id    uuid NOT NULL REFERENCES agreements,
    institution_id  uuid NOT NULL,
    PRIMARY KEY (agreement_id, institution_id)
);

-- Membership history: a row per stretch of membership, never deleted ("who was a member when").
CREATE TABLE memberships (
    membership_id   uuid PRIMARY KEY,
    partnership_id  uuid NOT NULL REFERENCES partnerships,
    institution_id  uuid NOT NULL,
    joined_on       date NOT NULL,
    left_on         date,
    CHECK (left_on IS NULL OR left_on >= joined_on)
);
CREATE UNIQUE INDEX memberships_current
    ON memberships (partnership_id, institution_id) WHERE left_on IS NULL;

-- Staff who represent a member institution. Personal data (RODO): minimal, never in events,
-- logs or reports; a removed representative's name and e-mail are erased.
CREATE TABLE representatives (
    representative_id  uuid PRIMARY KEY,
    partnership_id     uuid NOT NULL REFERENCES partnerships,
    institution_id     uuid NOT NULL,
    name               text,
    function           text,
    email              text,
    since              date NOT NULL,
    until              date
);
CREATE INDEX representatives_partnership ON representatives (partnership_id, institution_id);

-- animator, coordinator, adviser (the adviser from the regional centre, ROPS): an institution,
-- optionally the person of it who holds the role. History kept: a row per holding.
CREATE TABLE role_holders (
    partnership_id     uuid NOT NULL REFERENCES partnerships,
    role               text NOT NULL CHECK (role IN ('animator', 'coordinator', 'adviser')),
    institution_id     uuid NOT NULL,
    representative_id  uuid REFERENCES representatives,
    since              date NOT NULL,
    until              date,
    recorded_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX role_holders_current ON role_holders (partnership_id, role) WHERE until IS NULL;

-- The diagnostic team (Zespół Diagnostyczny): members chosen for the joint diagnosis.
CREATE TABLE diagnostic_team (
    partnership_id  uuid NOT NULL REFERENCES partnerships,
    institution_id  uuid NOT NULL,
    PRIMARY KEY (partnership_id, institution_id)
);

-- What changed when, and by whom (the subject of the token), for the history page.
CREATE TABLE partnership_log (
    entry_id        bigserial PRIMARY KEY,
    partnership_id  uuid NOT NULL REFERENCES partnerships,
    at              timestamptz NOT NULL DEFAULT now(),
    on_day          date NOT NULL,
    what            text NOT NULL,
    institution_id  uuid,
    actor           text NOT NULL
);
CREATE INDEX partnership_log_partnership ON partnership_log (partnership_id, entry_id);

-- The one catch-up from the event log on the first start (catch_up.py): the directory and
-- referrals' earlier PZK memberships, the upgrade path of an existing installation.
CREATE TABLE catch_up (
    done_at   timestamptz NOT NULL DEFAULT now(),
    events    int NOT NULL,
    seeded    int NOT NULL
);
