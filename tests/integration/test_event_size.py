"""Events are small, and a large one is refused: the broker's max_message_size (set by
deploy/local/infra.sh) refuses a publish above 1 MiB, and a consumer dead-letters a message above
KOOP_MAX_EVENT_BYTES unread, with the reason, while the others keep flowing."""

from __future__ import annotations

import json
import subprocess
from collections.abc import AsyncIterator
from uuid import UUID, uuid4

import aio_pika
import asyncpg
import pytest
from aio_pika.abc import AbstractRobustConnection

from services.diagnosis.app import spec as diagnosis_spec
from shared.db import create_pool
from shared.envelope import CONTENT_TYPE, wrap
from shared.settings import MAX_EVENT_BYTES, Settings
from shared.topology import dead_letter_queue_name, declare_exchange
from tests.integration.conftest import eventually
from tests.integration.service_under_test import Service, running
from tests.integration.test_consumer import opened  # the same builder

pytestmark = pytest.mark.integration
LIMIT = 64 * 1024  # this test's diagnosis takes events up to 64 KiB


def _padded(case_id: UUID, size: int) -> bytes:
    """A valid case.opened.v1 grown to `size` bytes by a field consumers would ignore."""
    envelope = json.loads(wrap(opened(case_id), region="06", service="intake").to_bytes())
    envelope["data"]["padding"] = ""
    body = json.dumps(envelope).encode()
    envelope["data"]["padding"] = "x" * (size - len(body))
    padded = json.dumps(envelope).encode()
    assert len(padded) == size
    return padded


async def _publish(amqp: AbstractRobustConnection, settings: Settings, body: bytes) -> None:
    channel = await amqp.channel(publisher_confirms=True)
    try:
        exchange = await declare_exchange(channel, settings.exchange)
        await exchange.publish(
            aio_pika.Message(body=body, content_type=CONTENT_TYPE,
                             delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key="case.opened.v1",
        )  # fmt: skip
    finally:
        if not channel.is_closed:
            await channel.close()


@pytest.fixture(scope="module")
async def diagnosis(settings: Settings) -> AsyncIterator[Service]:
    small = settings.model_copy(update={"max_event_bytes": LIMIT})
    async with running(diagnosis_spec, "diagnosisbig", 23, small) as service:
        yield service


@pytest.fixture(scope="module")
async def diagnosis_db(diagnosis: Service, settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(settings.database_url("diagnosisbig"))
    yield pool
    await pool.close()


async def test_an_oversized_event_is_dead_lettered_unread_and_the_rest_flow(
    diagnosis: Service,
    diagnosis_db: asyncpg.Pool,
    amqp: AbstractRobustConnection,
    settings: Settings,
) -> None:
    big, fits, after = uuid4(), uuid4(), uuid4()
    oversized = _padded(big, LIMIT + 1)
    await _publish(amqp, settings, oversized)
    await _publish(amqp, settings, _padded(fits, LIMIT))
    await _publish(amqp, settings, wrap(opened(after), region="06", service="intake").to_bytes())

    async def diagnosed(case_id: UUID) -> bool:
        found = await diagnosis_db.fetchval("SELECT count(*) FROM diagnoses WHERE case_id = $1",
                                            case_id)  # fmt: skip
        return bool(found)

    await eventually(lambda: diagnosed(after), what="the next event's diagnosis")
    assert await diagnosed(fits)
    assert not await diagnosed(big)

    async def dead_letter() -> list[aio_pika.abc.AbstractIncomingMessage]:
        channel = await amqp.channel()
        queue = await channel.declare_queue(dead_letter_queue_name("diagnosisbig"), passive=True)
        found = []
        while (message := await queue.get(no_ack=False, fail=False)) is not None:
            found.append(message)
        for message in found:
            await message.nack(requeue=True)
        await channel.close()
        return [m for m in found if m.body == oversized]

    [message] = await eventually(dead_letter, what="the oversized event's dead letter")
    error = message.headers["x-error"]
    error = error.decode() if isinstance(error, bytes) else str(error)
    assert error.startswith(f"TooLarge: {LIMIT + 1} bytes") and str(LIMIT) in error, error
    assert message.headers["x-attempts"] == 1


def test_the_brokers_message_limit_is_the_event_limit(settings: Settings) -> None:
    done = subprocess.run(
        ["rabbitmqctl", "-q", "eval", "application:get_env(rabbit, max_message_size)."],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert done.stdout.strip() == f"{{ok,{MAX_EVENT_BYTES}}}", (
        "deploy/local/infra.sh sets the broker's max_message_size", done.stdout)  # fmt: skip
    assert settings.max_event_bytes == MAX_EVENT_BYTES


async def test_the_broker_refuses_a_message_above_the_event_limit(
    amqp: AbstractRobustConnection, settings: Settings
) -> None:
    with pytest.raises(aio_pika.exceptions.AMQPError, match="max"):
        await _publish(amqp, settings, _padded(uuid4(), MAX_EVENT_BYTES + 1))
