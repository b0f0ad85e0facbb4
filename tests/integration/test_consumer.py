"""The consumer on the real broker: effects once, bounded retries, dead letters with reasons."""

from __future__ import annotations

import asyncio
from datetime import date
from uuid import uuid4

import aio_pika
import asyncpg
import pytest
from aio_pika.abc import AbstractRobustConnection
from prometheus_client import REGISTRY

from shared.envelope import CONTENT_TYPE, wrap
from shared.events import CaseClosed, CaseOpened, CaseReopened, Place
from shared.runtime import ServiceRuntime
from shared.settings import Settings
from shared.topology import dead_letter_queue_name, declare_exchange
from tests.integration.conftest import FAILS_LEFT, eventually

pytestmark = pytest.mark.integration
PLACE = Place(gmina="0601032", powiat="0601", region="06", variant="rural")


def opened(case_id=None) -> CaseOpened:
    return CaseOpened(
        case_id=case_id or uuid4(),
        place=PLACE,
        opened_on=date(2026, 3, 1),
        household_size=2,
        age_bands={"30-44": 2},
        reasons=["9"],
        notified_by="school",
        consent_to_share=True,
    )


async def publish(
    amqp: AbstractRobustConnection, settings: Settings, body: bytes, routing_key: str
) -> None:
    channel = await amqp.channel(publisher_confirms=True)
    exchange = await declare_exchange(channel, settings.exchange)
    await exchange.publish(
        aio_pika.Message(
            body=body, content_type=CONTENT_TYPE, delivery_mode=aio_pika.DeliveryMode.PERSISTENT
        ),
        routing_key=routing_key,
    )
    await channel.close()


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def probe_count(series: str) -> float:
    """One of the probe's counters, as its /metrics shows it."""
    return REGISTRY.get_sample_value(f"kooperacja_{series}_total", {"service": "probe"}) or 0.0


async def effects(pool: asyncpg.Pool, case_id) -> int:
    return await pool.fetchval("SELECT count(*) FROM effects WHERE case_id = $1", case_id)


async def dead_letters(
    amqp: AbstractRobustConnection, service: str
) -> list[aio_pika.IncomingMessage]:
    channel = await amqp.channel()
    queue = await channel.declare_queue(dead_letter_queue_name(service), passive=True)
    found = []
    while (message := await queue.get(no_ack=False, fail=False)) is not None:
        found.append(message)
    for message in found:
        await message.nack(requeue=True)
    await channel.close()
    return found


async def test_duplicate_delivery_has_its_effect_once(
    probe: ServiceRuntime,
    settings: Settings,
    probe_pool: asyncpg.Pool,
    amqp: AbstractRobustConnection,
) -> None:
    event = opened()
    envelope = wrap(event, region="06", service="intake")
    body = envelope.to_bytes()
    before = probe_count("events_duplicate")
    await publish(amqp, settings, body, "case.opened.v1")
    await publish(amqp, settings, body, "case.opened.v1")
    marker = opened()
    await publish(
        amqp, settings, wrap(marker, region="06", service="intake").to_bytes(), "case.opened.v1"
    )

    await eventually(lambda: effects(probe_pool, marker.case_id), what="the marker's effect")
    assert await effects(probe_pool, event.case_id) == 1
    assert (
        await probe_pool.fetchval("SELECT count(*) FROM inbox WHERE event_id = $1", envelope.id)
        == 1
    )

    # the second delivery was skipped as a duplicate (in its batch or by the inbox), once
    async def skipped() -> bool:
        return probe_count("events_duplicate") > before

    await eventually(skipped, what="the duplicate skipped")
    assert probe_count("events_duplicate") - before == 1


async def test_redelivered_after_a_failure_the_effect_is_committed_once(
    probe: ServiceRuntime,
    settings: Settings,
    probe_pool: asyncpg.Pool,
    amqp: AbstractRobustConnection,
) -> None:
    event = opened()
    # The handler fails twice, both in the first delivery: once in the batch's transaction and
    # once more in the message's own savepoint (each rolled back); the redelivery succeeds.
    FAILS_LEFT[event.case_id] = 2
    failed_before = probe_count("events_failed")
    await publish(
        amqp, settings, wrap(event, region="06", service="intake").to_bytes(), "case.opened.v1"
    )
    await eventually(lambda: effects(probe_pool, event.case_id), what="the effect")
    assert FAILS_LEFT[event.case_id] == 0
    assert probe_count("events_failed") - failed_before == 1, "one failed delivery, then one"
    assert await effects(probe_pool, event.case_id) == 1


async def test_message_that_keeps_failing_is_dead_lettered_with_the_error(
    probe: ServiceRuntime,
    settings: Settings,
    probe_pool: asyncpg.Pool,
    amqp: AbstractRobustConnection,
) -> None:
    closed = CaseClosed(case_id=uuid4(), place=PLACE, closed_on=date(2026, 4, 1), outcome="other")
    envelope = wrap(closed, region="06", service="intake")
    await publish(amqp, settings, envelope.to_bytes(), "case.closed.v1")

    async def ours() -> list[aio_pika.IncomingMessage]:
        return [m for m in await dead_letters(amqp, "probe") if m.body == envelope.to_bytes()]

    [message] = await eventually(ours, what="the dead letter")
    assert "always fails" in _text(message.headers["x-error"])
    assert message.headers["x-attempts"] == settings.max_attempts
    assert message.headers["x-original-routing-key"] == "case.closed.v1"
    # the failed attempts left no effect behind
    assert (
        await probe_pool.fetchval("SELECT count(*) FROM inbox WHERE event_id = $1", envelope.id)
        == 0
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "MalformedEvent"),
        (b'{"specversion": "1.0", "id": "nope"}', "MalformedEvent"),
        (None, "UnknownEventType"),
    ],
)
async def test_poison_message_is_dead_lettered_at_once_and_the_rest_keep_flowing(
    probe: ServiceRuntime,
    settings: Settings,
    probe_pool: asyncpg.Pool,
    amqp: AbstractRobustConnection,
    body: bytes | None,
    reason: str,
) -> None:
    if body is None:  # a version this code does not know
        good = wrap(opened(), region="06", service="intake")
        body = good.model_copy(update={"type": "pl.kooperacja.case.opened.v7"}).to_bytes()
    await publish(amqp, settings, body, "case.opened.v1")
    after = opened()
    await publish(
        amqp, settings, wrap(after, region="06", service="intake").to_bytes(), "case.opened.v1"
    )

    await eventually(lambda: effects(probe_pool, after.case_id), what="the next message")

    async def ours() -> list[aio_pika.IncomingMessage]:
        return [m for m in await dead_letters(amqp, "probe") if m.body == body]

    [message] = await eventually(ours, what="the dead letter")
    assert reason in _text(message.headers["x-error"])
    assert message.headers["x-attempts"] == 1


async def test_events_of_one_case_are_never_handled_at_the_same_time(
    probe: ServiceRuntime,
    settings: Settings,
    probe_pool: asyncpg.Pool,
    amqp: AbstractRobustConnection,
) -> None:
    case_id = uuid4()
    reopened = CaseReopened(case_id=case_id, place=PLACE, reopened_on=date(2026, 6, 1))
    channel = await amqp.channel(publisher_confirms=True)
    exchange = await declare_exchange(channel, settings.exchange)
    await asyncio.gather(
        *(
            exchange.publish(
                aio_pika.Message(
                    body=wrap(reopened, region="06", service="intake").to_bytes(),
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key="case.reopened.v1",
            )
            for _ in range(30)
        )
    )
    await channel.close()

    async def counted() -> int:
        n = await probe_pool.fetchval("SELECT n FROM counters WHERE case_id = $1", case_id)
        return n if n == 30 else 0

    assert await eventually(counted, what="30 increments") == 30


async def test_a_failing_message_among_many_in_flight_fails_alone(
    probe: ServiceRuntime,
    settings: Settings,
    probe_pool: asyncpg.Pool,
    amqp: AbstractRobustConnection,
) -> None:
    # Published at once, so that they are handled in shared batches (one transaction each):
    # the always-failing one must not take the others' effects with it, nor leave its own.
    events = [opened() for _ in range(40)]
    FAILS_LEFT[events[7].case_id] = 1  # fails once, then succeeds on redelivery
    closed = CaseClosed(case_id=uuid4(), place=PLACE, closed_on=date(2026, 4, 1), outcome="other")
    failing = wrap(closed, region="06", service="intake")
    channel = await amqp.channel(publisher_confirms=True)
    exchange = await declare_exchange(channel, settings.exchange)
    bodies = [(wrap(e, region="06", service="intake").to_bytes(), "case.opened.v1") for e in events]
    bodies.insert(20, (failing.to_bytes(), "case.closed.v1"))
    await asyncio.gather(
        *(
            exchange.publish(
                aio_pika.Message(body=b, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=key,
            )
            for b, key in bodies
        )
    )
    await channel.close()

    async def all_done() -> bool:
        n = await probe_pool.fetchval(
            "SELECT count(*) FROM effects WHERE case_id = ANY($1)", [e.case_id for e in events]
        )
        return n >= len(events)

    await eventually(all_done, what="the 40 effects")
    for event in events:
        assert await effects(probe_pool, event.case_id) == 1

    async def dead() -> list[aio_pika.IncomingMessage]:
        return [m for m in await dead_letters(amqp, "probe") if m.body == failing.to_bytes()]

    await eventually(dead, what="the failing message's dead letter")
    assert (
        await probe_pool.fetchval("SELECT count(*) FROM inbox WHERE event_id = $1", failing.id) == 0
    )
