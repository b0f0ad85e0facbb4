"""Intake's closings and reopenings mirrored in diagnosis and referrals (shared/case_state.py):
the same rule in both, settled by intake's per-case sequence whatever the arrival order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import asyncpg
import pytest

from shared import case_state
from shared.case_state import MirrorTable
from shared.db import prepare_database
from shared.settings import Settings

pytestmark = pytest.mark.integration

SERVICES = Path(__file__).parents[2] / "services"
MIRRORS: dict[MirrorTable, str] = {"closed_cases": "diagnosis", "case_status": "referrals"}


@pytest.fixture(scope="module", params=list(MIRRORS))
async def mirror(
    request: pytest.FixtureRequest, settings: Settings
) -> AsyncIterator[tuple[asyncpg.Connection, MirrorTable]]:
    """The service's own table, made by its own migrations."""
    table: MirrorTable = request.param
    service = MIRRORS[table]
    url = settings.database_url(f"mirror_{service}")
    await prepare_database(url, service, SERVICES / service / "migrations")
    conn = await asyncpg.connect(url)
    yield conn, table
    await conn.close()


async def state(conn: asyncpg.Connection, table: MirrorTable, case_id) -> tuple[bool, int]:
    row = await conn.fetchrow(
        f"SELECT closed, closed_round FROM {table} WHERE case_id = $1", case_id
    )
    return row["closed"], row["closed_round"]


# (closed, round, sequence) of intake's events, in intake's order: the last one settles.
HISTORY = [(True, 1, 3), (False, 2, 4)]  # closed in round 1, reopened as round 2


@pytest.mark.parametrize("order", [[0, 1], [1, 0]], ids=["in order", "reversed"])
async def test_the_later_event_by_sequence_settles_in_either_arrival_order(
    mirror: tuple[asyncpg.Connection, MirrorTable], order: list[int]
) -> None:
    conn, table = mirror
    case_id = uuid4()
    for i in order:
        closed, round, sequence = HISTORY[i]
        await case_state.record(conn, table, case_id, closed=closed, round=round, sequence=sequence)
    assert await state(conn, table, case_id) == (False, 1)
    assert await case_state.closed_round(conn, table, case_id) == 1


async def test_a_late_closing_of_an_earlier_round_never_lowers_the_closed_round(
    mirror: tuple[asyncpg.Connection, MirrorTable],
) -> None:
    conn, table = mirror
    case_id = uuid4()
    await case_state.record(conn, table, case_id, closed=True, round=2, sequence=6)
    await case_state.record(conn, table, case_id, closed=True, round=1, sequence=3)
    assert await state(conn, table, case_id) == (True, 2)


@pytest.mark.parametrize("numbered_first", [True, False])
async def test_an_event_without_a_sequence_orders_before_every_numbered_one(
    mirror: tuple[asyncpg.Connection, MirrorTable], numbered_first: bool
) -> None:
    conn, table = mirror
    case_id = uuid4()
    unnumbered = {"closed": True, "round": 1, "sequence": None}
    numbered = {"closed": False, "round": 2, "sequence": 4}
    for event in [numbered, unnumbered] if numbered_first else [unnumbered, numbered]:
        await case_state.record(conn, table, case_id, **event)  # type: ignore[arg-type]
    assert await state(conn, table, case_id) == (False, 1)


async def test_among_unnumbered_events_the_later_arrival_wins(
    mirror: tuple[asyncpg.Connection, MirrorTable],
) -> None:
    conn, table = mirror
    case_id = uuid4()
    await case_state.record(conn, table, case_id, closed=True, round=1, sequence=None)
    await case_state.record(conn, table, case_id, closed=False, round=2, sequence=None)
    assert await state(conn, table, case_id) == (False, 1)


def test_the_rule_in_words() -> None:
    assert case_state.later(3, 4) and not case_state.later(4, 3)
    assert case_state.later(None, 1) and not case_state.later(1, None)
    assert case_state.later(None, None)
