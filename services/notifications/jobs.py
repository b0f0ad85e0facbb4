"""Notifications' periodic work: due follow-ups become notifications (the mail outbox is sent by
shared.mail.mail_job). Run by shared.jobs: no failure of a pass stops the service."""

from __future__ import annotations

import logging
from datetime import date

from services.notifications import domain, store
from services.notifications.handlers import notify
from services.notifications.settings import notification_settings
from shared.jobs import every
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)


@every(lambda: notification_settings().follow_up_every_seconds)
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
