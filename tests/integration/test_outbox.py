"""The outbox publishes exactly what was committed, once, even with several relays."""

from __future__ import annotations

import asyncio
from datetime import date
from uuid import uuid4

import asyncpg
import pytest
from aio_pika.abc import AbstractRobustConnection

from shared import outbox
from shared.db import create_pool, prepare_database
from shared.envelope import parse_envelope
from shared.events import CaseOpened, Place
from shared.outbox import Origin, OutboxRelay
from shared.settings import Settings
from shared.topology import declare_exchange
from tests.integration.conftest import PROBE_MIGRATIONS, eventually

ORIGIN = Origin("06", "probe")
PLACE = Place(gmina="0601032", powiat="0601", region="06", variant="rural")


@pytest.fixture(scope="module")
async def relay_pool(settings: Settings):
    """A database of its own: no service's relay runs on it but the ones a test makes."""
    url = settings.database_url("relaytest")
    await prepare_database(url, "relaytest", PROBE_MIGRATIONS)
    pool = await create_pool(url)
    yield pool
    await pool.close()


def opened(case_id=None) -> CaseOpened:
    return CaseOpened(
        case_id=case_id or uuid4(),
        place=PLACE,
        opened_on=date(2026, 3, 1),
        household_size=1,
        age_bands={"30-44": 1},
        reasons=["4"],
        notified_by="self",
        consent_to_share=True,
    )


async def relay_for(
    settings: Settings, pool: asyncpg.Pool, amqp: AbstractRobustConnection
) -> OutboxRelay:
    channel = await amqp.channel(publisher_confirms=True)
    exchange = await declare_exchange(channel, settings.exchange)
    return OutboxRelay(
        service="probe",
        pool=pool,
        database_url=settings.database_url("relaytest"),
        exchange=exchange,
        batch_size=50,
    )


async def listen(amqp: AbstractRobustConnection, settings: Settings) -> tuple[list[bytes], object]:
    channel = await amqp.channel()
    exchange = await declare_exchange(channel, settings.exchange)
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(exchange, routing_key="case.opened.v1")
    received: list[bytes] = []

    async def on_message(message) -> None:
        received.append(message.body)
        await message.ack()

    await queue.consume(on_message)
    return received, channel


@pytest.mark.integration
async def test_outbox_publishes_what_was_committed_and_not_what_was_rolled_back(
    settings: Settings, relay_pool: asyncpg.Pool, amqp: AbstractRobustConnection
) -> None:
    received, channel = await listen(amqp, settings)
    kept, dropped = opened(), opened()
    async with relay_pool.acquire() as conn, conn.transaction():
        await outbox.add(conn, ORIGIN, kept)
    with pytest.raises(RuntimeError):
        async with relay_pool.acquire() as conn, conn.transaction():
            await outbox.add(conn, ORIGIN, dropped)
            raise RuntimeError("the state change failed")

    # A marker committed last: once it has arrived, everything published before it has too.
    marker = opened()
    async with relay_pool.acquire() as conn, conn.transaction():
        await outbox.add(conn, ORIGIN, marker)
    relay = await relay_for(settings, relay_pool, amqp)
    while await relay.publish_batch():
        pass

    await eventually(lambda: _subjects(received, {str(marker.case_id)}), what="the marker")
    subjects = await _subjects(received, {str(kept.case_id), str(dropped.case_id)})
    assert subjects == [str(kept.case_id)]
    assert await outbox.backlog(relay_pool) == 0
    await channel.close()


async def _subjects(received: list[bytes], wanted: set[str]) -> list[str]:
    return [s for s in (parse_envelope(b).subject for b in received) if s in wanted]


@pytest.mark.integration
async def test_two_relays_publish_each_event_exactly_once_in_sequence(
    settings: Settings, relay_pool: asyncpg.Pool, amqp: AbstractRobustConnection
) -> None:
    received, channel = await listen(amqp, settings)
    case_id = uuid4()
    async with relay_pool.acquire() as conn, conn.transaction():
        await outbox.add(conn, ORIGIN, *(opened(case_id) for _ in range(300)))
    relays = [await relay_for(settings, relay_pool, amqp) for _ in range(2)]

    async def drain(relay: OutboxRelay) -> int:
        total = 0
        while n := await relay.publish_batch():
            total += n
        return total

    counts = await asyncio.gather(*(drain(r) for r in relays))
    assert sum(counts) == 300

    async def all_arrived() -> list[bytes]:
        ours = [b for b in received if parse_envelope(b).subject == str(case_id)]
        return ours if len(ours) >= 300 else []

    ours = await eventually(all_arrived, what="300 events")
    envelopes = [parse_envelope(b) for b in ours]
    assert len({e.id for e in envelopes}) == 300
    assert sorted(e.sequence for e in envelopes) == list(range(1, 301))
    await channel.close()
