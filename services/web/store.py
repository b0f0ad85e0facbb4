"""The web front's SQL: server-side sessions in its own database (`<prefix>_web`), so several
web processes share them and a restart signs nobody out."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

MIGRATIONS = Path(__file__).parent / "migrations"
# How often a request that changes nothing moves the session's last_seen (idle expiry).
TOUCH_EVERY_SECONDS = 30
# How long a session before signing in lasts (a sign-in form left open for a while still works).
ANONYMOUS_SECONDS = 3600


@dataclass
class StoredSession:
    data: dict[str, Any]
    expired: bool  # past its token's end or idle too long (the caller deletes it)
    stale: bool  # last_seen older than TOUCH_EVERY_SECONDS


class SessionStore:
    """The pool is opened in the app's lifespan; the session middleware holds this object."""

    def __init__(self, idle_seconds: int) -> None:
        self.idle_seconds = idle_seconds
        self.pool: asyncpg.Pool | None = None

    def _pool(self) -> asyncpg.Pool:
        if self.pool is None:
            raise RuntimeError("the session store is not open")
        return self.pool

    async def load(self, id_hash: bytes) -> StoredSession | None:
        row = await self._pool().fetchrow(
            """SELECT data::text AS data,
                      expires_at <= now()
                        OR (signed_in AND last_seen < now() - make_interval(secs => $2))
                        AS expired,
                      last_seen < now() - make_interval(secs => $3) AS stale
                 FROM web_sessions WHERE id_hash = $1""",
            id_hash,
            float(self.idle_seconds),
            float(TOUCH_EVERY_SECONDS),
        )
        if row is None:
            return None
        return StoredSession(json.loads(row["data"]), row["expired"], row["stale"])

    async def save(self, id_hash: bytes, data: dict[str, Any], expires_at: float | None) -> None:
        """Insert or replace: signed in until `expires_at` (the token's end, epoch seconds), or,
        when None, a session before signing in."""
        await self._pool().execute(
            """INSERT INTO web_sessions (id_hash, data, signed_in, expires_at, last_seen)
               VALUES ($1, $2::jsonb, $3::float8 IS NOT NULL,
                       COALESCE(to_timestamp($3), now() + make_interval(secs => $4)), now())
               ON CONFLICT (id_hash) DO UPDATE
                  SET data = EXCLUDED.data, signed_in = EXCLUDED.signed_in,
                      expires_at = EXCLUDED.expires_at, last_seen = now()""",
            id_hash,
            json.dumps(data),
            expires_at,
            float(ANONYMOUS_SECONDS),
        )

    async def touch(self, id_hash: bytes) -> None:
        await self._pool().execute(
            "UPDATE web_sessions SET last_seen = now() WHERE id_hash = $1", id_hash
        )

    async def delete(self, id_hash: bytes) -> None:
        await self._pool().execute("DELETE FROM web_sessions WHERE id_hash = $1", id_hash)

    async def delete_expired(self) -> int:
        status = await self._pool().execute(
            """DELETE FROM web_sessions
                WHERE expires_at <= now()
                   OR (signed_in AND last_seen < now() - make_interval(secs => $1))""",
            float(self.idle_seconds),
        )
        return int(status.split()[-1])
