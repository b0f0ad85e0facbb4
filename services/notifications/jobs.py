"""Notifications' periodic work: due follow-ups become notifications, and the mail outbox is
sent. A round that fails is logged and counted and the next round comes as planned: no failure
of a job, whatever it is, stops the service."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import date

from prometheus_client import Counter

from services.notifications import domain, store
from services.notifications.handlers import notify
from services.notifications.settings import notification_settings
from shared import mail
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)

JOB_FAILURES = Counter(
    "kooperacja_job_failures_total", "Rounds of a background job that failed", ["service", "job"]
)


async def every(
    seconds: float,
    job: Callable[[ServiceContext], Awaitable[object]],
    ctx: ServiceContext,
    stopping: asyncio.Event,
) -> None:
    """Run `job` every `seconds` until the service stops; an exception ends one round only."""
    name = getattr(job, "__name__", "job")
    JOB_FAILURES.labels(ctx.name, name)
    while not stopping.is_set():
        try:
            await job(ctx)
        except Exception as exc:  # a job's failure must not stop the service
            JOB_FAILURES.labels(ctx.name, name).inc()
            log.warning("%s: job %s failed, next round in %.0f s: %r", ctx.name, name, seconds, exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=seconds)


async def remind_follow_ups(ctx: ServiceContext) -> int:
    """Follow-ups due by today become notifications for the gmina's caseworkers."""
    done = 0
    while True:
        async with ctx.pool.acquire() as conn, conn.transaction():
            due = await store.claim_due_follow_ups(conn, date.today(), 100)
            for reminder in due:
                await notify(conn, domain.follow_up_due(reminder))
        done += len(due)
        if len(due) < 100:
            return done


async def send_mail(ctx: ServiceContext) -> int:
    settings = mail.mail_settings()
    sent = 0
    while (tried := await mail.send_due(ctx.pool, ctx.name, settings)) > 0:
        sent += tried
    mail.MAIL_BACKLOG.labels(ctx.name).set(await mail.backlog(ctx.pool))
    return sent


async def follow_up_job(ctx: ServiceContext, stopping: asyncio.Event) -> None:
    await every(notification_settings().follow_up_every_seconds, remind_follow_ups, ctx, stopping)


async def mail_job(ctx: ServiceContext, stopping: asyncio.Event) -> None:
    mail.expose(ctx.name)
    await every(mail.mail_settings().send_every_seconds, send_mail, ctx, stopping)
