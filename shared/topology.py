"""Names and declaration of the broker objects: one topic exchange, per-service quorum queues
with their dead-letter queues, and a stream bound to the exchange as the replayable event log."""

from __future__ import annotations

from collections.abc import Iterable

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractQueue

DEAD_LETTER_EXCHANGE = "kooperacja.dead-letter"
EVENT_LOG_STREAM = "kooperacja.event-log"


def queue_name(service: str, purpose: str = "events") -> str:
    return f"kooperacja.{service}.{purpose}"


def dead_letter_queue_name(service: str) -> str:
    return f"kooperacja.{service}.dead-letter"


def queue_arguments(service: str, max_attempts: int) -> dict[str, object]:
    return {
        "x-queue-type": "quorum",
        # The consumer dead-letters with the reason after `max_attempts`; the broker's own limit
        # is a backstop for a message that crashes the process before it can do so.
        "x-delivery-limit": max_attempts + 2,
        "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
        "x-dead-letter-routing-key": service,
    }


async def declare_exchange(
    channel: AbstractChannel, exchange: str
) -> aio_pika.abc.AbstractExchange:
    return await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC, durable=True)


async def declare_event_log(channel: AbstractChannel, exchange: str) -> AbstractQueue:
    """The stream that keeps every event: rebuilds and new subscribers read it from the start."""
    ex = await declare_exchange(channel, exchange)
    stream = await channel.declare_queue(
        EVENT_LOG_STREAM, durable=True, arguments={"x-queue-type": "stream"}
    )
    await stream.bind(ex, routing_key="#")
    return stream


async def declare_service_queues(
    channel: AbstractChannel,
    *,
    exchange: str,
    service: str,
    routing_keys: Iterable[str],
    max_attempts: int,
) -> AbstractQueue:
    """Declare (idempotently) what one consuming service needs and bind its routing keys."""
    ex = await declare_exchange(channel, exchange)
    await declare_event_log(channel, exchange)
    dlx = await channel.declare_exchange(
        DEAD_LETTER_EXCHANGE, aio_pika.ExchangeType.DIRECT, durable=True
    )
    dlq = await channel.declare_queue(
        dead_letter_queue_name(service), durable=True, arguments={"x-queue-type": "quorum"}
    )
    await dlq.bind(dlx, routing_key=service)
    queue = await channel.declare_queue(
        queue_name(service), durable=True, arguments=queue_arguments(service, max_attempts)
    )
    for key in routing_keys:
        await queue.bind(ex, routing_key=key)
    return queue
