"""Idempotent POSTs: a retried request with the same `Idempotency-Key` answers what the first
answered (same status, same body) and has no second effect; the same key with another request
is refused. A service using it keeps, in its own database, the table

    CREATE TABLE idempotency_keys (
        principal text NOT NULL, key text NOT NULL, request_hash text NOT NULL,
        status int NOT NULL, body jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (principal, key));

and writes the answer in the transaction of the request's effect, so both commit or neither.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any

import asyncpg
from fastapi import Header
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from shared import locks
from shared.auth import Principal
from shared.errors import InvalidInput
from shared.jobs import every
from shared.runtime import ServiceContext
from shared.text import SingleLine

log = logging.getLogger(__name__)

# A client retries within minutes; a week covers a long outage and a careful operator.
KEEP_ANSWERS = timedelta(days=7)
FORGET_EVERY_SECONDS = 3600.0

IdempotencyKey = Annotated[
    SingleLine | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="A retried request with the same key answers what the first one did.",
    ),
]


def fingerprint(route: str, body: BaseModel | None) -> str:
    """What makes two requests the same request: the route and the parsed body."""
    payload = route + "\n" + (body.model_dump_json() if body is not None else "")
    return hashlib.sha256(payload.encode()).hexdigest()


def _caller(principal: Principal) -> str:
    # Keys are the caller's own: two people choosing the same key never meet, nor one subject
    # acting in two scopes (a stored answer is never replayed to a scope it was not given in).
    # Routes check the scope before they replay, too.
    scope = (principal.gmina, principal.powiat, principal.region, principal.institution)
    return ":".join([str(principal.role), *(str(s) if s else "" for s in scope), principal.subject])


async def replay(
    tx: asyncpg.Connection, principal: Principal, key: str | None, request_hash: str
) -> JSONResponse | None:
    """The first answer to a retried request, or None when this request is new.

    Waits out a concurrent request with the same key (an advisory lock held to its commit).
    """
    if key is None:
        return None
    caller = _caller(principal)
    await locks.lock_subject(tx, locks.idempotency(caller, key))
    row = await tx.fetchrow(
        """SELECT request_hash, status, body FROM idempotency_keys
           WHERE principal = $1 AND key = $2""",
        caller,
        key,
    )
    if row is None:
        return None
    if row["request_hash"] != request_hash:
        raise InvalidInput(
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request",
            field="Idempotency-Key",
        )
    return JSONResponse(json.loads(row["body"]), status_code=row["status"])


async def is_known(conn: asyncpg.Connection, principal: Principal, key: str) -> bool:
    """Whether the caller has an answer under this key: a request too long to fingerprint
    before it takes effect (a streamed import) asks first, and only then reads itself whole
    to compare with `replay`."""
    found = await conn.fetchval(
        "SELECT true FROM idempotency_keys WHERE principal = $1 AND key = $2",
        _caller(principal),
        key,
    )
    return bool(found)


async def answer(
    tx: asyncpg.Connection,
    principal: Principal,
    key: str | None,
    request_hash: str,
    status: int,
    result: Any,
) -> JSONResponse:
    """The answer to a new request, kept under its key when it has one."""
    body = jsonable_encoder(result)
    if key is not None:
        await tx.execute(
            """INSERT INTO idempotency_keys (principal, key, request_hash, status, body)
               VALUES ($1, $2, $3, $4, $5)""",
            _caller(principal),
            key,
            request_hash,
            status,
            json.dumps(body),
        )
    return JSONResponse(body, status_code=status)


async def once(
    pool: asyncpg.Pool,
    principal: Principal,
    key: str | None,
    request_hash: str,
    status: int,
    work: Callable[[], Awaitable[Any]],
) -> JSONResponse:
    """Do `work` (outside the database, or in transactions of its own) once per key: a retry
    gets the first answer, and one arriving meanwhile waits for it (the key's lock is held in
    a transaction around the work)."""
    async with pool.acquire() as conn, conn.transaction():
        if first := await replay(conn, principal, key, request_hash):
            return first
        return await answer(conn, principal, key, request_hash, status, await work())


async def forget_answers(conn: asyncpg.Connection, older_than: timedelta) -> int:
    """Drop answers kept longer than `older_than` (by the database clock); returns how many."""
    status = await conn.execute(
        "DELETE FROM idempotency_keys WHERE created_at < now() - $1::interval", older_than
    )
    return int(status.split()[-1])


@every(FORGET_EVERY_SECONDS)
async def forget_old_answers(ctx: ServiceContext) -> None:
    """A job (ServiceSpec.jobs): forget answers older than KEEP_ANSWERS, hourly."""
    async with ctx.pool.acquire() as conn:
        forgotten = await forget_answers(conn, KEEP_ANSWERS)
    if forgotten:
        log.info("%s forgot %d answers to idempotent requests", ctx.name, forgotten)
