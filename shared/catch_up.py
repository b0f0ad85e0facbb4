"""Catching up from the event log: a service that begins to consume an event type (a new
service, or a new binding) has none of that type's past events in its queue. It reads them from
the event-log stream, from its start or from the offset it recorded, up to a marker it puts at
the end, through its own consumer (inbox, handlers, locks: the same transaction as live), while
its queue takes the live events. An event found both in the log and in the queue is handled
once: the inbox records its id with its effect.

A service that opts in (`ServiceSpec.catch_up`) keeps, in its own database, the table

    CREATE TABLE event_log_catch_up (
        routing_key text PRIMARY KEY, next_offset bigint NOT NULL DEFAULT 0,
        finished_at timestamptz);

one row per routing key it consumes: once the catch-up of a key finished, only the live queue
brings it. The progress is recorded after each batch commits, so a catch-up cut short resumes
from there; what it reads again is known to the inbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import aiormq
import asyncpg
from aiormq.abc import DeliveredMessage
from prometheus_client import Counter, Gauge

from shared.consumer import EventConsumer, Verdict
from shared.topology import DEAD_LETTER_EXCHANGE, EVENT_LOG_STREAM

log = logging.getLogger(__name__)

# The same prefix as reporting's rebuild markers: every reader of the log skips such bodies.
MARKER_PREFIX = b"kooperacja-rebuild-marker:"
MARKER_HEADER = "x-kooperacja-rebuild-marker"

CAUGHT_UP = Counter(
    "kooperacja_catch_up_events_total",
    "Events read from the event log while catching up",
    ["service", "result"],
)
CATCHING_UP = Gauge(
    "kooperacja_catch_up_pending", "Routing keys whose catch-up has not finished", ["service"]
)


@dataclass(frozen=True)
class CatchUpResult:
    keys: list[str]
    read: int  # messages of the log up to the marker, from the starting offset
    handled: int  # of the pending keys, given to the consumer (duplicates included)
    dead_lettered: int


async def pending_keys(pool: asyncpg.Pool, keys: list[str]) -> dict[str, int]:
    """The keys whose catch-up has not finished, with the offset each resumes from."""
    async with pool.acquire() as conn:
        await conn.execute(
            """INSERT INTO event_log_catch_up (routing_key)
               SELECT unnest($1::text[]) ON CONFLICT DO NOTHING""",
            keys,
        )
        rows = await conn.fetch(
            """SELECT routing_key, next_offset FROM event_log_catch_up
               WHERE finished_at IS NULL AND routing_key = ANY($1::text[])""",
            keys,
        )
    return {r["routing_key"]: r["next_offset"] for r in rows}


async def catch_up(
    *,
    service: str,
    pool: asyncpg.Pool,
    consumer: EventConsumer,
    amqp_url: str,
    keys: list[str],
    batch_size: int = 200,
    idle_timeout: float = 30,
) -> CatchUpResult:
    """Read the log up to a fresh end marker and hand the pending keys' events to `consumer`."""
    pending = await pending_keys(pool, keys)
    CATCHING_UP.labels(service).set(len(pending))
    if not pending:
        return CatchUpResult([], 0, 0, 0)
    start = min(pending.values())
    connection = await aiormq.connect(amqp_url)
    read = handled = dead = 0
    try:
        channel = await connection.channel()
        await channel.basic_qos(prefetch_count=batch_size)
        marker = MARKER_PREFIX + str(uuid4()).encode()
        await channel.basic_publish(
            marker,
            routing_key=EVENT_LOG_STREAM,
            properties=aiormq.spec.Basic.Properties(
                headers={MARKER_HEADER: marker.decode()}, delivery_mode=2
            ),
        )
        arrived: asyncio.Queue[DeliveredMessage] = asyncio.Queue()

        async def on_message(message: DeliveredMessage) -> None:
            arrived.put_nowait(message)

        await channel.basic_consume(
            EVENT_LOG_STREAM, on_message, no_ack=False, arguments={"x-stream-offset": start}
        )
        log.info("%s: catching up %s from offset %d", service, sorted(pending), start)
        done = False
        while not done:
            batch: list[DeliveredMessage] = []
            try:
                batch.append(await asyncio.wait_for(arrived.get(), timeout=idle_timeout))
            except TimeoutError as exc:
                raise RuntimeError("the event log went quiet before the catch-up's marker") from exc
            while len(batch) < batch_size and not arrived.empty():
                batch.append(arrived.get_nowait())
            ours: list[DeliveredMessage] = []
            last_offset = None
            for message in batch:
                if message.body == marker:
                    done = True
                    break
                read += 1
                last_offset = _offset(message)
                key = message.delivery.routing_key or ""
                if key in pending and (last_offset is None or last_offset >= pending[key]):
                    ours.append(message)
            outcomes = await asyncio.gather(*(_handle(consumer, m) for m in ours))
            for message, verdict in zip(ours, outcomes, strict=True):
                handled += 1
                if verdict is Verdict.DEAD_LETTER:
                    dead += 1
                    await _dead_letter(channel, service, message)
                CAUGHT_UP.labels(service, verdict.value).inc()
            if last_offset is not None:
                await _record(pool, list(pending), last_offset + 1)
            # Acks on a stream remove nothing: they return the credit.
            await channel.basic_ack(batch[-1].delivery.delivery_tag, multiple=True)
        async with pool.acquire() as conn:
            await conn.execute(
                """UPDATE event_log_catch_up SET finished_at = now()
                   WHERE routing_key = ANY($1::text[])""",
                list(pending),
            )
    finally:
        with contextlib.suppress(Exception):
            await connection.close()
    CATCHING_UP.labels(service).set(0)
    log.info(
        "%s: caught up %s: %d events of the log read, %d handed to the handlers (%d dead-lettered)",
        service,
        sorted(pending),
        read,
        handled,
        dead,
    )
    return CatchUpResult(sorted(pending), read, handled, dead)


def _offset(message: DeliveredMessage) -> int | None:
    value = (message.header.properties.headers or {}).get("x-stream-offset")
    return int(value) if isinstance(value, int) else None


async def _handle(consumer: EventConsumer, message: DeliveredMessage) -> Verdict:
    """The consumer's verdict, retried as the live queue would retry it."""
    headers: dict[str, Any] = {
        k: v
        for k, v in (message.header.properties.headers or {}).items()
        if not k.startswith("x-stream")
    }
    attempt = 0
    while True:
        outcome = await consumer.handle(message.body, {**headers, "x-delivery-count": attempt})
        if outcome.verdict is not Verdict.RETRY:
            return outcome.verdict
        attempt += 1


async def _record(pool: asyncpg.Pool, keys: list[str], next_offset: int) -> None:
    await pool.execute(
        """UPDATE event_log_catch_up SET next_offset = greatest(next_offset, $2)
           WHERE routing_key = ANY($1::text[]) AND finished_at IS NULL""",
        keys,
        next_offset,
    )


async def _dead_letter(
    channel: aiormq.abc.AbstractChannel, service: str, message: DeliveredMessage
) -> None:
    """Kept in the service's dead-letter queue, as a live message that fails is."""
    properties = message.header.properties
    headers = {
        **{k: v for k, v in (properties.headers or {}).items() if not k.startswith("x-stream")},
        "x-error": "failed while catching up from the event log (see the service log)",
        "x-service": service,
        "x-original-routing-key": message.delivery.routing_key or "",
    }
    await channel.basic_publish(
        message.body,
        exchange=DEAD_LETTER_EXCHANGE,
        routing_key=service,
        properties=aiormq.spec.Basic.Properties(
            headers=headers,
            content_type=properties.content_type,
            message_id=properties.message_id,
            delivery_mode=2,
        ),
    )


async def keep_catching_up(
    *,
    service: str,
    pool: asyncpg.Pool,
    consumer: EventConsumer,
    amqp_url: str,
    keys: list[str],
    stopping: asyncio.Event,
    retry_seconds: float = 15,
) -> None:
    """Catch up, trying again after a failure (the broker away, the log quiet), until done or
    the service stops; a failure never stops the service."""
    while not stopping.is_set():
        try:
            await catch_up(
                service=service, pool=pool, consumer=consumer, amqp_url=amqp_url, keys=keys
            )
            return
        except Exception as exc:  # resumes from the recorded offset
            log.warning(
                "%s: catch-up from the event log failed, again in %.0f s: %r",
                service,
                retry_seconds,
                exc,
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=retry_seconds)
