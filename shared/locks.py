"""Advisory locks on a subject (a case, a directory entry): one key space for the consumer,
which locks the subjects of a batch before its handlers run, and for the APIs, which lock the
subject they change. With one key per subject, a handler runs already holding its event's
subject, and an API call on that case waits for the batch to commit (and the other way round)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

import asyncpg

# Transaction-scoped, 64-bit: released at commit or rollback, collisions practically absent.
KEY_SQL = "hashtextextended({}, 0)"


async def lock_subject(tx: asyncpg.Connection, subject: str) -> None:
    await tx.execute(f"SELECT pg_advisory_xact_lock({KEY_SQL.format('$1')})", subject)


async def try_lock_subject(tx: asyncpg.Connection, subject: str) -> bool:
    """Take the lock only if it is free: for a caller already holding a wider lock, which
    must never wait (it could wait for a holder that waits for it)."""
    return bool(
        await tx.fetchval(f"SELECT pg_try_advisory_xact_lock({KEY_SQL.format('$1')})", subject)
    )


async def lock_subjects(tx: asyncpg.Connection, subjects: list[str]) -> None:
    """Lock many subjects in one round trip, in key order, so that two transactions locking
    overlapping sets cannot deadlock."""
    await tx.execute(
        f"""SELECT pg_advisory_xact_lock(k) FROM (
               SELECT DISTINCT {KEY_SQL.format("s")} AS k FROM unnest($1::text[]) s
               ORDER BY k) keys""",
        subjects,
    )


# The consumer's batch transaction remembers the keys it has locked: a lock that many handlers
# of one batch take (referrals' routing lock) then costs one round trip per batch, not one each.
_held: ContextVar[tuple[asyncpg.Connection, set[int]] | None] = ContextVar(
    "locks_held", default=None
)


@contextlib.contextmanager
def remembered(tx: asyncpg.Connection) -> Iterator[None]:
    """Remember the keys `lock_key` takes on `tx` inside the block. Only for a block whose
    failure rolls back the whole transaction: a savepoint rolled back would release a lock
    still remembered as held."""
    token = _held.set((tx, set()))
    try:
        yield
    finally:
        _held.reset(token)


async def lock_key(tx: asyncpg.Connection, key: int) -> None:
    """A transaction-scoped advisory lock on a fixed key (held to commit or rollback)."""
    held = _held.get()
    if held is not None and held[0] is tx:
        if key in held[1]:
            return
        held[1].add(key)
    await tx.execute("SELECT pg_advisory_xact_lock($1)", key)
