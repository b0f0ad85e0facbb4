-- A partner institution without users answers by e-mail: each referral goes to the
-- institution's contact address (its functional mailbox, e.g. sekretariat@) with a signed,
-- expiring link good for answering that one referral.
ALTER TABLE institutions ADD COLUMN contact_email text;

CREATE TABLE referral_links (
    link_id         uuid PRIMARY KEY,
    referral_id     uuid NOT NULL,
    institution_id  uuid NOT NULL,
    expires_at      timestamptz NOT NULL,
    accepted_at     timestamptz,
    -- Set by the answer that ends the referral (a decline or the completion): no more use.
    used_at         timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX referral_links_of_referral ON referral_links (referral_id);

-- Every answer given through a link, and every refused attempt, for the gmina to audit.
CREATE TABLE referral_link_audit (
    entry_id        bigserial PRIMARY KEY,
    link_id         uuid,
    referral_id     uuid,
    institution_id  uuid,
    action          text NOT NULL,
    result          text NOT NULL,
    detail          text,
    at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX referral_link_audit_of_referral ON referral_link_audit (referral_id, at);

CREATE TABLE mail_outbox (
    mail_id          uuid PRIMARY KEY,
    recipient        text NOT NULL,
    subject          text NOT NULL,
    body             text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    attempts         int NOT NULL DEFAULT 0,
    sent_at          timestamptz,
    failed_at        timestamptz,
    last_error       text
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at)
    WHERE sent_at IS NULL AND failed_at IS NULL;
