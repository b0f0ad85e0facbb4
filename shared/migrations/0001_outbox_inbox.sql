-- Outbox: events committed with the state change that caused them; the relay publishes them.
CREATE TABLE outbox (
    position     bigserial PRIMARY KEY,
    event_id     uuid NOT NULL UNIQUE,
    routing_key  text NOT NULL,
    body         bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox', '');
    RETURN NULL;
END $$;

-- One notification per inserting statement is enough to wake the relay.
CREATE TRIGGER outbox_inserted AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- Per-subject counter behind the `sequence` extension of the events this service emits.
CREATE TABLE event_sequence (
    subject  text PRIMARY KEY,
    last     bigint NOT NULL
);

-- Inbox: ids of the events whose effect is committed; a redelivery finds its id and is skipped.
CREATE TABLE inbox (
    event_id     uuid PRIMARY KEY,
    event_type   text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);
