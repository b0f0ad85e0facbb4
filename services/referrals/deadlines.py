"""The deadline watch: a background job that reports each missed deadline once
(`support.overdue.v1`) and hands free places to recommendations still waiting.

Durable by construction: deadlines are columns, not timers, so a deadline that passed while the
service was down is found on the first round after a start; the column recording the report is
set in the transaction that adds the event to the outbox, so it is reported exactly once, also
with several instances (rows are claimed FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import logging

from services.referrals import domain, routing, store
from services.referrals.domain import ReferralState
from services.referrals.settings import referral_settings
from shared import metrics, outbox
from shared.codes import SupportType
from shared.events import Event, SupportOverdue
from shared.jobs import every
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)


async def report_overdue(ctx: ServiceContext) -> int:
    """One batch of missed deadlines: mark each and emit its event; returns how many."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        events: list[Event] = []
        for row in await store.claim_overdue(conn):
            # The database's clock judged the row due; the same clock decides the stage.
            stage = domain.overdue_stage(
                ReferralState(row["state"]),
                accept_by=row["accept_by"],
                complete_by=row["complete_by"],
                now=row["checked_at"],
            )
            if stage is None:
                continue
            await store.mark_overdue(conn, row["referral_id"], stage)
            events.append(
                SupportOverdue(
                    referral_id=row["referral_id"],
                    case_id=row["case_id"],
                    place=routing.place_of(row),
                    support_type=SupportType(row["support_type"]),
                    institution_id=row["institution_id"],
                    stage=stage,
                )
            )
        await outbox.add(conn, ctx.origin, *events)
    for event in events:
        metrics.REFERRALS_OVERDUE.labels(event.stage).inc()
    return len(events)


async def assign_waiting(ctx: ServiceContext) -> int:
    """The backstop for places freed while a waiting case was locked by someone else."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        await store.lock_routing(conn)
        events = await routing.assign_waiting(conn)
        await outbox.add(conn, ctx.origin, *events)
    return len(events)


@every(lambda: referral_settings().watch_seconds)
async def watch_deadlines(ctx: ServiceContext) -> None:
    """Every missed deadline reported, then free places handed on. Nothing is lost to a failed
    pass: the deadlines stay in the table for the next one."""
    while await report_overdue(ctx) > 0:
        pass
    await assign_waiting(ctx)
