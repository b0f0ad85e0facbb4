"""Diagnosis's event handlers, fast: called as the consumer calls them, in one transaction
that is rolled back (tests/support/transaction.py), on the real database without a broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from uuid import UUID, uuid4

import asyncpg
import pytest

from services.diagnosis import handlers
from shared.envelope import wrap
from shared.events import CaseClosed, CaseOpened, CaseReopened, Event, Place
from shared.settings import Settings
from tests.support.transaction import migrated, rolled_back

pytestmark = pytest.mark.integration
PLACE = Place(gmina="0601032", powiat="0601", region="06", variant="rural")


@pytest.fixture(scope="module")
async def url(settings: Settings) -> str:
    return await migrated(settings, "diagnosis")


@pytest.fixture
async def tx(url: str) -> AsyncIterator[asyncpg.Connection]:
    async for conn in rolled_back(url):
        yield conn


async def deliver(tx: asyncpg.Connection, event: Event, sequence: int) -> None:
    envelope = wrap(event, region="06", service="intake", sequence=sequence)
    await handlers.handlers.run_one(tx, event, envelope)


def opened(case_id: UUID) -> CaseOpened:
    return CaseOpened(
        case_id=case_id, place=PLACE, opened_on=date(2026, 3, 1), household_size=1,
        age_bands={"30-44": 1}, reasons=["4"], notified_by="self", consent_to_share=True,
    )  # fmt: skip


async def status(tx: asyncpg.Connection, case_id: UUID) -> tuple[str, int]:
    row = await tx.fetchrow("SELECT status, round FROM diagnoses WHERE case_id = $1", case_id)
    return row["status"], row["round"]


async def test_an_opening_with_consent_opens_the_diagnosis(tx: asyncpg.Connection) -> None:
    case_id = uuid4()
    await deliver(tx, opened(case_id), 1)
    assert await status(tx, case_id) == ("open", 1)


@pytest.mark.parametrize("closing_first", [True, False], ids=["closed, reopened", "reversed"])
async def test_a_closing_and_a_reopening_settle_in_either_order(
    tx: asyncpg.Connection, closing_first: bool
) -> None:
    case_id = uuid4()
    await deliver(tx, opened(case_id), 1)
    closed = CaseClosed(
        case_id=case_id, place=PLACE, closed_on=date(2026, 4, 1), outcome="other", round=1
    )
    reopened = CaseReopened(case_id=case_id, place=PLACE, reopened_on=date(2026, 5, 1), round=2)
    arrivals = [(closed, 2), (reopened, 3)]
    for event, sequence in arrivals if closing_first else reversed(arrivals):
        await deliver(tx, event, sequence)
    # the round-1 diagnosis was cancelled by the closing, and the reopening opened it again
    assert await status(tx, case_id) == ("open", 2)
