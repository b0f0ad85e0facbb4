"""The consumer's batches on the real database: what a batch does at once (inbox, bulk
handlers, outbox) gives the same effects as one message at a time, failures included."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from uuid import UUID, uuid4

import asyncpg
import pytest

from shared import locks, outbox
from shared.consumer import EventConsumer, Handlers, Outcome, Verdict
from shared.db import create_pool, prepare_database
from shared.envelope import Envelope, parse_envelope, wrap
from shared.events import CaseClosed, CaseOpened, CaseReopened, Event
from shared.outbox import Origin
from shared.settings import Settings
from tests.integration.conftest import PROBE_MIGRATIONS
from tests.integration.test_consumer import PLACE, opened

pytestmark = pytest.mark.integration


@pytest.fixture
async def pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    # A database of its own: no relay of a running service takes the outbox rows away.
    url = settings.database_url("batches")
    await prepare_database(url, "batches", PROBE_MIGRATIONS)
    pool = await create_pool(url)
    await pool.execute("TRUNCATE effects, counters, inbox, outbox, event_sequence")
    yield pool
    await pool.close()


def body(event: Event) -> bytes:
    return wrap(event, region="06", service="intake").to_bytes()


async def in_one_batch(consumer: EventConsumer, bodies: list[bytes]) -> list[Outcome]:
    """Hand the messages over at once, as concurrent broker callbacks do: one batch."""
    return list(await asyncio.gather(*(consumer.handle(b, {}) for b in bodies)))


async def test_an_event_twice_in_one_batch_has_its_effect_once(pool: asyncpg.Pool) -> None:
    handlers = Handlers()

    @handlers.on(CaseOpened)
    async def on_opened(tx: asyncpg.Connection, event: CaseOpened, env: Envelope) -> None:
        await tx.execute("INSERT INTO effects VALUES ($1, $2)", env.id, event.case_id)

    consumer = EventConsumer(service="batches", pool=pool, handlers=handlers, max_attempts=3)
    twice = body(opened())
    others = [body(opened()) for _ in range(5)]
    try:
        outcomes = await in_one_batch(consumer, [twice, *others, twice])
        again = await in_one_batch(consumer, [twice])
    finally:
        await consumer.close()

    assert all(o.verdict is Verdict.ACK for o in outcomes)
    assert [o.reason for o in outcomes] == [""] * 6 + ["duplicate"]
    assert again[0].reason == "duplicate"
    event_id = parse_envelope(twice).id
    assert await pool.fetchval("SELECT count(*) FROM effects WHERE event_id = $1", event_id) == 1
    assert await pool.fetchval("SELECT count(*) FROM effects") == 6


async def test_a_bulk_handler_takes_the_batch_at_once_and_a_failure_alone(
    pool: asyncpg.Pool,
) -> None:
    handlers = Handlers()
    calls: list[int] = []
    failing = uuid4()

    @handlers.on_each_batch(CaseOpened, CaseReopened)
    async def record(tx: asyncpg.Connection, events: list[tuple[Event, Envelope]]) -> None:
        calls.append(len(events))
        for event, env in events:
            if event.case_id == failing:  # type: ignore[attr-defined]
                raise RuntimeError("this case always fails")
            await tx.execute("INSERT INTO effects VALUES ($1, $2)", env.id, event.case_id)  # type: ignore[attr-defined]

    consumer = EventConsumer(service="batches", pool=pool, handlers=handlers, max_attempts=1)
    good = [opened() for _ in range(8)]
    reopened = CaseReopened(case_id=uuid4(), place=PLACE, reopened_on=date(2026, 5, 1))
    try:
        outcomes = await in_one_batch(consumer, [body(e) for e in [*good, reopened]])
        assert calls == [9]  # the whole batch, both event types, in one call

        calls.clear()
        mixed = [opened() for _ in range(3)] + [opened(failing)]
        outcomes = await in_one_batch(consumer, [body(e) for e in mixed])
    finally:
        await consumer.close()

    # The batch failed as a whole, then ran message by message: three committed, one dead.
    assert calls == [4, 1, 1, 1, 1]
    assert [o.verdict for o in outcomes] == [Verdict.ACK] * 3 + [Verdict.DEAD_LETTER]
    assert "this case always fails" in outcomes[3].reason
    stored = {r["case_id"] for r in await pool.fetch("SELECT case_id FROM effects")}
    assert stored == {e.case_id for e in good} | {reopened.case_id} | {e.case_id for e in mixed[:3]}
    assert await pool.fetchval("SELECT count(*) FROM inbox") == 12


async def test_events_added_in_a_batch_are_numbered_per_case_in_the_order_added(
    pool: asyncpg.Pool,
) -> None:
    handlers = Handlers()
    origin = Origin("06", "batches")

    @handlers.on(CaseReopened)
    async def on_reopened(tx: asyncpg.Connection, event: CaseReopened, env: Envelope) -> None:
        # Two events per message, for the same case as other messages of the batch.
        closed = CaseClosed(
            case_id=event.case_id, place=PLACE, closed_on=event.reopened_on, outcome="other"
        )
        await outbox.add(tx, origin, closed, event, cause=env)

    consumer = EventConsumer(service="batches", pool=pool, handlers=handlers, max_attempts=3)
    case_a, case_b = uuid4(), uuid4()
    days = range(1, 6)
    messages = [
        CaseReopened(case_id=case, place=PLACE, reopened_on=date(2026, 5, day))
        for day in days
        for case in (case_a, case_b)
    ]
    await pool.execute("INSERT INTO event_sequence VALUES ($1, 41)", str(case_b))
    try:
        outcomes = await in_one_batch(consumer, [body(m) for m in messages])
    finally:
        await consumer.close()
    assert all(o.verdict is Verdict.ACK and o.reason == "" for o in outcomes)

    rows = await pool.fetch("SELECT body FROM outbox ORDER BY position")
    published = [parse_envelope(r["body"]) for r in rows]
    assert len(published) == 2 * len(messages)

    def of(case: UUID) -> list[tuple[int | None, str, str]]:
        return [
            (
                e.sequence,
                e.routing_key,
                e.data["closed_on" if "closed_on" in e.data else "reopened_on"],
            )
            for e in published
            if e.subject == str(case)
        ]

    expected_days = [f"2026-05-0{d}" for d in days for _ in range(2)]
    for case, first in ((case_a, 1), (case_b, 42)):
        seen = of(case)
        assert [s for s, _, _ in seen] == list(range(first, first + 10))
        assert [k for _, k, _ in seen] == ["case.closed.v1", "case.reopened.v1"] * 5
        assert [d for _, _, d in seen] == expected_days
    assert (
        await pool.fetchval("SELECT last FROM event_sequence WHERE subject = $1", str(case_a)) == 10
    )


async def test_a_lock_taken_by_many_handlers_of_a_batch_is_held_for_each(
    pool: asyncpg.Pool, settings: Settings
) -> None:
    handlers = Handlers()
    key = 0x7465_7374
    seen_free: list[bool] = []
    other = await asyncpg.connect(settings.database_url("batches"))

    @handlers.on(CaseOpened)
    async def on_opened(tx: asyncpg.Connection, event: CaseOpened, env: Envelope) -> None:
        await locks.lock_key(tx, key)  # once for the batch, remembered after
        seen_free.append(await other.fetchval("SELECT pg_try_advisory_lock($1)", key))

    consumer = EventConsumer(service="batches", pool=pool, handlers=handlers, max_attempts=3)
    try:
        await in_one_batch(consumer, [body(opened()) for _ in range(5)])
        # After the commit the lock is free again.
        assert await other.fetchval("SELECT pg_try_advisory_lock($1)", key)
    finally:
        await consumer.close()
        await other.close()
    assert seen_free == [False] * 5
