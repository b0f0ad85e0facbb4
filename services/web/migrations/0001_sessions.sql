-- The web front's own data: who is signed in. The browser holds only a random id; the row is
-- found by that id's SHA-256 (a copy of this table opens no session). `data` holds the
-- service token and its claims, the CSRF secret, a one-time message and, during an OpenID
-- sign-in, the provider's state: nothing of the people helped.
CREATE TABLE web_sessions (
    id_hash bytea PRIMARY KEY,
    data jsonb NOT NULL,
    -- Signed in: ends after the idle time (KOOP_WEB_SESSION_IDLE_SECONDS) and never outlives
    -- its token. Before signing in (the sign-in form's CSRF secret, the provider's state) it
    -- ends an hour after it was last changed.
    signed_in boolean NOT NULL,
    expires_at timestamptz NOT NULL,
    last_seen timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX web_sessions_expires_at ON web_sessions (expires_at);
CREATE INDEX web_sessions_last_seen ON web_sessions (last_seen);
