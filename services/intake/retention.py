"""The retention job: personal data of cases closed longer than KOOP_INTAKE_RETENTION_DAYS is
anonymised, in batches, each with its audit entries in the same transaction. Database-backed
(`FOR UPDATE SKIP LOCKED`), so several instances and restarts are safe."""

from __future__ import annotations

import logging
from datetime import date

import asyncpg

from services.intake import domain, store
from services.intake.settings import intake_settings
from shared import outbox
from shared.jobs import every
from shared.outbox import Origin
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)


async def anonymise_expired(
    pool: asyncpg.Pool, origin: Origin, *, retention_days: int, today: date, batch: int
) -> int:
    """One pass: every case past retention, a batch per transaction, each anonymisation
    announced (case.anonymised.v1) so that the other services erase what they hold of it.
    Returns cases done."""
    cutoff = domain.retention_cutoff(today, retention_days)
    done = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            due = await store.lock_cases_to_anonymise(conn, cutoff, batch)
            for case in due:
                note = domain.anonymisation_note(case["closed_on"], retention_days)
                await store.anonymise_case(conn, case["case_id"], case["gmina"], note)
                event = domain.anonymised_event(case["case_id"], case["gmina"].strip(), today)
                await outbox.add(conn, origin, event)
        done += len(due)
        if len(due) < batch:
            return done


@every(lambda: intake_settings().retention_every_seconds)
async def retention_job(ctx: ServiceContext) -> None:
    """One pass of the retention job (ServiceSpec.jobs)."""
    settings = intake_settings()
    done = await anonymise_expired(
        ctx.pool,
        ctx.origin,
        retention_days=settings.retention_days,
        today=date.today(),
        batch=settings.retention_batch,
    )
    if done:
        log.info("anonymised the personal data of %d closed cases", done)
