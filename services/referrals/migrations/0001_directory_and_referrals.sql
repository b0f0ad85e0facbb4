CREATE TABLE institutions (
    institution_id  uuid PRIMARY KEY,
    name            text NOT NULL,
    sector          text NOT NULL,
    support_types   text[] NOT NULL,
    gminas          text[] NOT NULL,
    powiats         text[] NOT NULL DEFAULT '{}',
    capacity        int NOT NULL DEFAULT 10 CHECK (capacity >= 0),
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX institutions_support ON institutions USING gin (support_types);

-- PZK membership of each gmina, from the written partnership agreement.
CREATE TABLE partnerships (
    gmina           char(7) NOT NULL,
    institution_id  uuid NOT NULL REFERENCES institutions,
    PRIMARY KEY (gmina, institution_id)
);

CREATE TABLE referrals (
    referral_id        uuid PRIMARY KEY,
    recommendation_id  uuid NOT NULL,
    diagnosis_id       uuid NOT NULL,
    case_id            uuid NOT NULL,
    gmina              char(7) NOT NULL,
    powiat             char(4) NOT NULL,
    region             char(2) NOT NULL,
    variant            text NOT NULL,
    support_type       text NOT NULL,
    priority           int NOT NULL,
    institution_id     uuid REFERENCES institutions,
    state              text NOT NULL
                       CHECK (state IN ('assigned', 'accepted', 'declined', 'completed',
                                        'cancelled', 'unassignable')),
    attempt            int NOT NULL,
    accept_by          timestamptz,
    complete_by        timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX referrals_institution_state ON referrals (institution_id, state);
CREATE INDEX referrals_case ON referrals (case_id);
CREATE INDEX referrals_recommendation ON referrals (recommendation_id);
