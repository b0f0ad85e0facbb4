"""Inbox: the id of every handled event, written in the transaction of its effect."""

from __future__ import annotations

from uuid import UUID

import asyncpg


async def first_time(tx: asyncpg.Connection, event_id: UUID, event_type: str) -> bool:
    """True when this event has not been handled before; records it as handled."""
    status = await tx.execute(
        "INSERT INTO inbox (event_id, event_type) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        event_id,
        event_type,
    )
    return status == "INSERT 0 1"


async def first_times(tx: asyncpg.Connection, events: list[tuple[UUID, str]]) -> set[UUID]:
    """`first_time` for many events in one statement: the ids not handled before, now recorded."""
    rows = await tx.fetch(
        """INSERT INTO inbox (event_id, event_type)
           SELECT * FROM unnest($1::uuid[], $2::text[]) ON CONFLICT DO NOTHING
           RETURNING event_id""",
        [event_id for event_id, _ in events],
        [event_type for _, event_type in events],
    )
    return {r["event_id"] for r in rows}
