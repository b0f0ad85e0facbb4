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
