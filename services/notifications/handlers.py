"""Notifications' event handlers: each event becomes the notifications it calls for, and an
e-mail for each person of their audience who asked for that kind by e-mail. The consumer has
opened the transaction and checked the inbox; the notification's id is fixed by what it is
about, so an event seen again (live and from the event log) adds nothing."""

from __future__ import annotations

from datetime import date
from uuid import uuid5

import asyncpg

from services.notifications import domain, store
from services.notifications.settings import notification_settings
from shared import mail
from shared.consumer import Handlers
from shared.envelope import Envelope
from shared.events import (
    CaseClosed,
    CaseConsentGiven,
    CaseFollowUpRecorded,
    CaseOpened,
    CaseReopened,
    DiagnosisCompleted,
    Event,
    SupportAssigned,
    SupportCompleted,
    SupportOverdue,
    SupportUnassignable,
)

handlers = Handlers()


async def notify(tx: asyncpg.Connection, notification: domain.Notification) -> None:
    """Into the audience's inboxes, and into the mail outbox for whoever wants it by e-mail."""
    if not await store.add_notification(tx, notification):
        return
    link = f"{notification_settings().public_url.rstrip('/')}/powiadomienia/"
    message = domain.mail_of(notification, link + str(notification.notification_id))
    for person in await store.mail_recipients(tx, notification):
        await mail.enqueue(
            tx,
            uuid5(notification.notification_id, person["subject"]),
            person["email"],
            message.subject,
            message.body,
        )


async def _from_event(tx: asyncpg.Connection, event: Event, _: Envelope) -> None:
    for notification in domain.notifications_of(event, today=date.today()):
        await notify(tx, notification)


for _event in (
    SupportAssigned,
    SupportOverdue,
    SupportUnassignable,
    CaseOpened,
    CaseConsentGiven,
    DiagnosisCompleted,
    SupportCompleted,
):
    handlers.on(_event)(_from_event)


@handlers.on(CaseReopened)
async def on_case_reopened(tx: asyncpg.Connection, event: CaseReopened, envelope: Envelope) -> None:
    """The diagnosis is open again for the team's review; follow-ups of the closing are off."""
    await store.record_reopening(tx, event.case_id, event.round)
    await _from_event(tx, event, envelope)


@handlers.on(CaseClosed)
async def on_case_closed(tx: asyncpg.Connection, event: CaseClosed, _: Envelope) -> None:
    """The family's follow-ups at 3 and 6 months, unless a later round is already known."""
    if await store.reopened_round(tx, event.case_id) > event.round:
        return
    await store.schedule(tx, domain.follow_ups_of(event))


@handlers.on(CaseFollowUpRecorded)
async def on_follow_up_recorded(
    tx: asyncpg.Connection, event: CaseFollowUpRecorded, _: Envelope
) -> None:
    """A follow-up done needs no reminder, whichever of the two events comes first."""
    await store.follow_up_recorded(
        tx,
        domain.Reminder(
            event.case_id,
            event.round,
            event.months,
            event.place.gmina,
            domain.add_months(event.closed_on, event.months),
        ),
    )
