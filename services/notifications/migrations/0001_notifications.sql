-- Each notification is addressed to an audience (a role in a gmina, or an institution's staff);
-- who belongs to it is read from the token of whoever opens the inbox.
CREATE TABLE notifications (
    notification_id uuid PRIMARY KEY,
    kind            text NOT NULL,
    audience        text NOT NULL,
    gmina           char(7) NOT NULL,
    institution_id  uuid,
    case_id         uuid NOT NULL,
    referral_id     uuid,
    diagnosis_id    uuid,
    details         jsonb NOT NULL DEFAULT '{}',
    occurred_on     date,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_of_gmina ON notifications (audience, gmina, created_at DESC);
CREATE INDEX notifications_of_institution ON notifications (institution_id, created_at DESC)
    WHERE institution_id IS NOT NULL;

-- Read marks: a person (the token's subject) has read a notification.
CREATE TABLE notification_reads (
    subject          text NOT NULL,
    notification_id  uuid NOT NULL REFERENCES notifications ON DELETE CASCADE,
    read_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subject, notification_id)
);

-- A person's e-mail preferences, with the role and scope of the token they were set with:
-- that is the audience whose notifications they get by e-mail.
CREATE TABLE mail_preferences (
    subject         text PRIMARY KEY,
    role            text NOT NULL,
    gmina           char(7),
    powiat          char(4),
    region          char(2),
    institution_id  uuid,
    email           text,
    kinds           text[] NOT NULL DEFAULT '{}',
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mail_preferences_by_role ON mail_preferences (role);

-- Follow-ups of a family at 3 and 6 months after its case closed; each becomes a notification
-- when due, unless the case was reopened meanwhile.
CREATE TABLE follow_ups (
    case_id   uuid NOT NULL,
    round     int NOT NULL,
    months    int NOT NULL,
    gmina     char(7) NOT NULL,
    due_on    date NOT NULL,
    notified  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (case_id, round, months)
);
CREATE INDEX follow_ups_due ON follow_ups (due_on) WHERE NOT notified;

-- The latest round each case was reopened into: a closing of an earlier round, arriving late,
-- schedules no follow-up.
CREATE TABLE case_rounds (
    case_id          uuid PRIMARY KEY,
    reopened_round   int NOT NULL
);

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

-- How far the catch-up from the event log has come, per routing key this service consumes
-- (shared/catch_up.py): a key whose catch-up finished is read from the live queue only.
CREATE TABLE event_log_catch_up (
    routing_key   text PRIMARY KEY,
    next_offset   bigint NOT NULL DEFAULT 0,
    finished_at   timestamptz
);
