"""Every advisory lock key of the project, and how they are taken.

Subjects (a case, a directory entry, a person in a gmina) are text hashed to 64 bits: one key
space for the consumer, which locks the subjects of a batch before its handlers run, and for
the APIs, which lock the subject they change. With one key per subject, a handler runs already
holding its event's subject, and an API call on that case waits for the batch to commit (and
the other way round). Fixed keys serialise one kind of work in a database."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from uuid import UUID

import asyncpg

# Transaction-scoped, 64-bit: released at commit or rollback, collisions practically absent.
KEY_SQL = "hashtextextended({}, 0)"

# Fixed keys, one per kind of work that runs one at a time in a database.
MIGRATIONS = 0x6B6F6F70  # "koop": one instance applies migrations, the others wait
ROUTING = 0x6B6F6F72  # "koor": referrals' routing decisions, one transaction at a time
REBUILD = 0x72656275  # "rebu": one rebuild of reporting's facts at a time (session-scoped)


def case(case_id: UUID | str) -> str:
    """A case: what the consumer locks for each event of it and an API for each change."""
    return str(case_id)


def pesel(gmina: str, pesel: str) -> str:
    """A person in a gmina: openings for the same PESEL wait for each other."""
    return f"pesel:{gmina}:{pesel}"


def external_ref(gmina: str, external_id: str) -> str:
    """An imported line's reference in a gmina: two imports of it wait for each other."""
    return f"ext:{gmina}:{external_id}"


def idempotency(caller: str, key: str) -> str:
    """A caller's Idempotency-Key: a retry waits out the request it repeats."""
    return f"{caller}:{key}"


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
