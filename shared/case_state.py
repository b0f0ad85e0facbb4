"""A case's closed or reopened state, mirrored from intake's events in another service.

Intake numbers the events of each case (the envelope's `sequence`), and they may arrive in any
order: the state follows the event with the higher number, whichever came last. An event with
no number (published before intake numbered its events) orders before every numbered one, and
among unnumbered ones the later arrival wins. The latest round known closed only grows: a late
closing of an earlier round never closes a later one, and a reopening never lowers it.

Each service keeps the mirror in a table of its own (named here, in code): columns case_id
(primary key), closed, sequence and closed_round.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import asyncpg

MirrorTable = Literal["closed_cases", "case_status"]

UNNUMBERED = 0  # the sequence an event without one is ordered by: before every numbered one


def later(known: int | None, incoming: int | None) -> bool:
    """Whether an event numbered `incoming` settles the state over the one numbered `known`
    (what the SQL of `record` decides, for readers and tests)."""
    return _number(known) <= _number(incoming)


def _number(sequence: int | None) -> int:
    return UNNUMBERED if sequence is None else sequence


async def record(
    tx: asyncpg.Connection,
    table: MirrorTable,
    case_id: UUID,
    *,
    closed: bool,
    round: int,
    sequence: int | None,
) -> None:
    """Mirror one closing (`closed`, ending `round`) or reopening of the case."""
    await tx.execute(
        f"""INSERT INTO {table} AS s (case_id, closed, sequence, closed_round)
            VALUES ($1, $2, $3, CASE WHEN $2 THEN $4 ELSE 0 END)
            ON CONFLICT (case_id) DO UPDATE
                SET closed = CASE WHEN coalesce(s.sequence, {UNNUMBERED}) <= excluded.sequence
                                  THEN excluded.closed ELSE s.closed END,
                    sequence = greatest(s.sequence, excluded.sequence),
                    closed_round = greatest(s.closed_round, excluded.closed_round)""",
        case_id,
        closed,
        _number(sequence),
        round,
    )


async def closed_round(tx: asyncpg.Connection, table: MirrorTable, case_id: UUID) -> int:
    """The latest round of the case known closed (0: none)."""
    found = await tx.fetchval(f"SELECT closed_round FROM {table} WHERE case_id = $1", case_id)
    return int(found or 0)
