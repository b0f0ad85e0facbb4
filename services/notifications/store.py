"""Notifications' SQL: the inboxes, read marks, e-mail preferences and follow-up reminders."""

from __future__ import annotations

import json
from datetime import date
from uuid import UUID

import asyncpg

from services.notifications.domain import Audience, Notification, Reminder
from shared.auth import Principal


async def add_notification(tx: asyncpg.Connection, n: Notification) -> bool:
    """Store a notification; False when it is there already (the same fact seen again)."""
    status = await tx.execute(
        """INSERT INTO notifications (notification_id, kind, audience, gmina, institution_id,
               case_id, referral_id, diagnosis_id, details, occurred_on)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10)
           ON CONFLICT (notification_id) DO NOTHING""",
        n.notification_id,
        n.kind.value,
        n.audience.value,
        n.gmina,
        n.institution_id,
        n.case_id,
        n.referral_id,
        n.diagnosis_id,
        json.dumps(n.details),
        n.occurred_on,
    )
    return status == "INSERT 0 1"


async def mail_recipients(tx: asyncpg.Connection, n: Notification) -> list[asyncpg.Record]:
    """Who asked to get this notification by e-mail: people of its audience (role, and a scope
    covering its gmina or naming its institution) who chose its kind and gave an address."""
    if n.audience is Audience.INSTITUTION_STAFF:
        return await tx.fetch(
            """SELECT subject, email FROM mail_preferences
               WHERE role = $1 AND institution_id = $2 AND email IS NOT NULL
                 AND $3 = ANY(kinds)""",
            n.audience.value,
            n.institution_id,
            n.kind.value,
        )
    return await tx.fetch(
        """SELECT subject, email FROM mail_preferences
           WHERE role = $1 AND email IS NOT NULL AND $2 = ANY(kinds)
             AND (gmina = $3 OR powiat = left($3, 4) OR region = left($3, 2))""",
        n.audience.value,
        n.kind.value,
        n.gmina,
    )


def _audience_filter(principal: Principal, first: int) -> tuple[str, list[object]]:
    """The WHERE clause of a person's inbox, by role and scope (values as parameters only)."""
    if principal.role == Audience.INSTITUTION_STAFF:
        return (
            f"n.audience = ${first} AND n.institution_id = ${first + 1}",
            [Audience.INSTITUTION_STAFF.value, principal.institution],
        )
    return (
        f"n.audience = ${first} AND n.gmina = ANY(${first + 1}::text[])",
        [str(principal.role), principal.gminas()],
    )


async def inbox(
    conn: asyncpg.Connection,
    principal: Principal,
    *,
    unread_only: bool,
    limit: int,
    offset: int,
) -> tuple[list[asyncpg.Record], int, int]:
    """A page of the person's notifications, newest first; how many the filter finds, and
    how many of all are unread."""
    where, args = _audience_filter(principal, 2)
    read = "r.notification_id IS NOT NULL"
    rows = await conn.fetch(
        f"""SELECT n.*, r.read_at FROM notifications n
            LEFT JOIN notification_reads r
              ON r.notification_id = n.notification_id AND r.subject = $1
            WHERE {where} {"AND NOT " + read if unread_only else ""}
            ORDER BY n.created_at DESC, n.notification_id
            LIMIT ${len(args) + 2} OFFSET ${len(args) + 3}""",
        principal.subject,
        *args,
        limit,
        offset,
    )
    counts = await conn.fetchrow(
        f"""SELECT count(*) FILTER (WHERE {"NOT " + read if unread_only else "true"}) AS total,
                   count(*) FILTER (WHERE NOT {read}) AS unread
            FROM notifications n
            LEFT JOIN notification_reads r
              ON r.notification_id = n.notification_id AND r.subject = $1
            WHERE {where}""",
        principal.subject,
        *args,
    )
    assert counts is not None
    return rows, counts["total"], counts["unread"]


async def one_of(
    conn: asyncpg.Connection, principal: Principal, notification_id: UUID
) -> asyncpg.Record | None:
    """One notification of the person's inbox (None when it is not theirs or not there)."""
    where, args = _audience_filter(principal, 3)
    return await conn.fetchrow(
        f"""SELECT n.*, r.read_at FROM notifications n
            LEFT JOIN notification_reads r
              ON r.notification_id = n.notification_id AND r.subject = $2
            WHERE n.notification_id = $1 AND {where}""",
        notification_id,
        principal.subject,
        *args,
    )


async def mark_read(tx: asyncpg.Connection, subject: str, notification_id: UUID) -> None:
    await tx.execute(
        """INSERT INTO notification_reads (subject, notification_id) VALUES ($1, $2)
           ON CONFLICT DO NOTHING""",
        subject,
        notification_id,
    )


async def preferences(conn: asyncpg.Connection, subject: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM mail_preferences WHERE subject = $1", subject)


async def save_preferences(
    tx: asyncpg.Connection, principal: Principal, email: str | None, kinds: list[str]
) -> asyncpg.Record:
    row = await tx.fetchrow(
        """INSERT INTO mail_preferences
               (subject, role, gmina, powiat, region, institution_id, email, kinds)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (subject) DO UPDATE SET role = excluded.role, gmina = excluded.gmina,
               powiat = excluded.powiat, region = excluded.region,
               institution_id = excluded.institution_id, email = excluded.email,
               kinds = excluded.kinds, updated_at = now()
           RETURNING *""",
        principal.subject,
        str(principal.role),
        principal.gmina,
        principal.powiat,
        principal.region,
        principal.institution,
        email,
        kinds,
    )
    assert row is not None
    return row


async def reopened_round(tx: asyncpg.Connection, case_id: UUID) -> int:
    value = await tx.fetchval("SELECT reopened_round FROM case_rounds WHERE case_id = $1", case_id)
    return int(value or 1)


async def record_reopening(tx: asyncpg.Connection, case_id: UUID, round_: int) -> None:
    """The case was reopened into `round_`: follow-ups of earlier rounds not yet due go."""
    await tx.execute(
        """INSERT INTO case_rounds (case_id, reopened_round) VALUES ($1, $2)
           ON CONFLICT (case_id) DO UPDATE
               SET reopened_round =
                   greatest(case_rounds.reopened_round, excluded.reopened_round)""",
        case_id,
        round_,
    )
    await tx.execute(
        "DELETE FROM follow_ups WHERE case_id = $1 AND round < $2 AND NOT notified",
        case_id,
        round_,
    )


async def schedule(tx: asyncpg.Connection, reminders: list[Reminder]) -> None:
    await tx.executemany(
        """INSERT INTO follow_ups (case_id, round, months, gmina, due_on)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
        [(r.case_id, r.round, r.months, r.gmina, r.due_on) for r in reminders],
    )


async def follow_up_recorded(tx: asyncpg.Connection, reminder: Reminder) -> None:
    """The caseworker recorded this follow-up: no reminder of it any more (also when the
    closing that schedules it arrives later)."""
    await tx.execute(
        """INSERT INTO follow_ups (case_id, round, months, gmina, due_on, notified)
           VALUES ($1, $2, $3, $4, $5, true)
           ON CONFLICT (case_id, round, months) DO UPDATE SET notified = true""",
        reminder.case_id,
        reminder.round,
        reminder.months,
        reminder.gmina,
        reminder.due_on,
    )


async def claim_due_follow_ups(tx: asyncpg.Connection, today: date, limit: int) -> list[Reminder]:
    rows = await tx.fetch(
        """UPDATE follow_ups SET notified = true
           WHERE (case_id, round, months) IN (
               SELECT case_id, round, months FROM follow_ups
               WHERE NOT notified AND due_on <= $1
               ORDER BY due_on LIMIT $2 FOR UPDATE SKIP LOCKED)
           RETURNING case_id, round, months, gmina, due_on""",
        today,
        limit,
    )
    return [Reminder(r["case_id"], r["round"], r["months"], r["gmina"], r["due_on"]) for r in rows]
