"""Rebuild of the projections from the event log (the RabbitMQ stream), then back to live.

In one transaction: lock the inbox against the live consumer, forget every fact, put a marker
at the end of the stream, replay the stream from its first offset up to the marker in batches
(one multi-row upsert per table and batch) and record every replayed event in the inbox; commit.
Live events waiting meanwhile then find their id in the inbox (already replayed) or not (they
came after the marker), so none is lost or counted twice. Readers see the old figures until
the commit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import aiormq
import asyncpg
from aiormq.abc import DeliveredMessage

from services.reporting import domain, store
from services.reporting.handlers import handlers
from shared.envelope import MalformedEvent, open_envelope, parse_envelope
from shared.errors import Conflict
from shared.topology import EVENT_LOG_STREAM

log = logging.getLogger(__name__)

MARKER_HEADER = "x-kooperacja-rebuild-marker"
_REBUILD_LOCK = 0x72656275  # "rebu": one rebuild at a time per database


@dataclass(frozen=True)
class Rebuilt:
    events: int  # replayed and applied
    skipped: int  # not for reporting, malformed, or other rebuilds' markers
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


class EventLogReader:
    """Reads the stream from its first offset up to a marker placed at its end now.

    On aiormq directly, beneath aio-pika: a rebuild reads every message ever published, and
    aio-pika's message objects cost more than the rest of the replay.
    """

    def __init__(self, amqp_url: str, *, prefetch: int, idle_timeout: float = 30) -> None:
        self.amqp_url = amqp_url
        self.prefetch = prefetch
        self.idle_timeout = idle_timeout

    async def batches(self, batch_size: int) -> AsyncIterator[list[bytes]]:
        """The bodies of the messages before the marker, `batch_size` at a time."""
        connection = await aiormq.connect(self.amqp_url)
        try:
            channel = await connection.channel()
            # Streams require a prefetch: it is the consumer's credit.
            await channel.basic_qos(prefetch_count=self.prefetch)
            await channel.queue_declare(EVENT_LOG_STREAM, passive=True)
            marker = str(uuid4())
            # Straight into the stream through the default exchange: subscribers of the
            # topic exchange never see the marker.
            await channel.basic_publish(
                b"",
                routing_key=EVENT_LOG_STREAM,
                properties=aiormq.spec.Basic.Properties(
                    headers={MARKER_HEADER: marker}, message_id=marker, delivery_mode=2
                ),
            )
            arrived: asyncio.Queue[DeliveredMessage] = asyncio.Queue()

            async def on_message(message: DeliveredMessage) -> None:
                arrived.put_nowait(message)

            await channel.basic_consume(
                EVENT_LOG_STREAM,
                on_message,
                no_ack=False,
                arguments={"x-stream-offset": "first"},
            )
            batch: list[bytes] = []
            unacked = 0
            while True:
                try:
                    message = await asyncio.wait_for(arrived.get(), timeout=self.idle_timeout)
                except TimeoutError as exc:
                    raise RuntimeError(
                        f"the event log went quiet before its end marker {marker}"
                    ) from exc
                # Acks on a stream remove nothing, they only return credit: one for many.
                unacked += 1
                if unacked >= max(1, self.prefetch // 2):
                    await channel.basic_ack(message.delivery.delivery_tag, multiple=True)
                    unacked = 0
                headers = message.header.properties.headers or {}
                if _text(headers.get(MARKER_HEADER)) == marker:
                    if batch:
                        yield batch
                    return
                batch.append(message.body)
                if len(batch) >= batch_size:
                    yield batch
                    batch = []
        finally:
            await connection.close()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")


async def rebuild(
    pool: asyncpg.Pool, amqp_url: str, *, batch_size: int = 2000, prefetch: int = 4000
) -> Rebuilt:
    started = time.perf_counter()
    applied = skipped = 0
    reader = EventLogReader(amqp_url, prefetch=prefetch)
    async with pool.acquire() as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", _REBUILD_LOCK):
            raise Conflict("rebuild_running", "a rebuild of the projections is already running")
        try:
            async with conn.transaction():
                # The live consumer writes the inbox first: with it locked, live handling
                # waits for the commit, and readers go on reading the old figures.
                await conn.execute("LOCK TABLE inbox IN EXCLUSIVE MODE")
                await store.forget_everything(conn)
                async for batch in reader.batches(batch_size):
                    facts: list[domain.Fact] = []
                    handled: list[tuple[UUID, str]] = []
                    for body in batch:
                        try:
                            envelope = parse_envelope(body)
                            event = open_envelope(envelope)
                        except MalformedEvent:
                            skipped += 1  # live, it went to the dead-letter queue
                            continue
                        if handlers.get(envelope.routing_key) is None:
                            skipped += 1
                            continue
                        facts.extend(domain.facts_of(event, envelope))
                        handled.append((envelope.id, envelope.routing_key))
                    await store.record(conn, facts)
                    await store.mark_handled(conn, handled)
                    applied += len(handled)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _REBUILD_LOCK)
    result = Rebuilt(applied, skipped, time.perf_counter() - started)
    log.info(
        "rebuilt the projections from %d events (%d skipped) in %.1fs, %.0f events/s",
        result.events,
        result.skipped,
        result.seconds,
        result.events_per_second,
    )
    return result
