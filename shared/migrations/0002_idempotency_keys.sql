-- A retried POST with the same Idempotency-Key answers what the first one answered
-- (shared/idempotency.py). IF NOT EXISTS: databases made before this migration have the table
-- from their service's own migrations already.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    principal     text NOT NULL,
    key           text NOT NULL,
    request_hash  text NOT NULL,
    status        int NOT NULL,
    body          jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, key)
);
