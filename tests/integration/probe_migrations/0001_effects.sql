-- No unique key on purpose: an effect applied twice would show as two rows.
CREATE TABLE effects (
    event_id  uuid NOT NULL,
    case_id   uuid NOT NULL
);
