"""How long intake keeps what it needs only for a while: the answers kept for retried POSTs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

import asyncpg

from services.intake import store
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)

# A client retries within minutes; a week covers a long outage and a careful operator.
KEEP_ANSWERS = timedelta(days=7)
EVERY_SECONDS = 3600.0


async def forget_old_answers(ctx: ServiceContext, stopping: asyncio.Event) -> None:
    while not stopping.is_set():
        try:
            async with ctx.pool.acquire() as conn:
                forgotten = await store.forget_answers(conn, KEEP_ANSWERS)
            if forgotten:
                log.info("forgot %d answers to idempotent requests", forgotten)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("forgetting old idempotency answers failed, will retry: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=EVERY_SECONDS)
