"""The first start's catch-up from the event log (the RabbitMQ stream `kooperacja.event-log`,
which keeps every event): the institution directory as referrals announced it, and the PZK
memberships referrals announced before this service owned them (legacy.py). An existing
installation upgraded to this release so loses no membership.

Read once, from the stream's first offset up to an end marker put in when reading starts,
over AMQP. Each batch is handled in one transaction with the consumer's inbox, so an event
that also arrives on the service's queue meanwhile takes effect once. A failure is logged and
tried again later by the job runner; it never stops the service."""

from __future__ import annotations

import asyncio
import logging
from uuid import uuid4

import aio_pika
import asyncpg

from services.partnership.handlers import handlers
from services.partnership.settings import partnership_settings
from shared.envelope import MalformedEvent, open_envelope, parse_envelope
from shared.inbox import first_times
from shared.jobs import every
from shared.runtime import ServiceContext
from shared.topology import EVENT_LOG_STREAM

log = logging.getLogger(__name__)

MARKER_HEADER = "x-kooperacja-catch-up-marker"
BATCH = 500


async def read_log(amqp_url: str, idle_seconds: float) -> list[bytes]:
    """Every message of the event log as it stands now (the bodies; the marker left out)."""
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=500)
        queue = await channel.declare_queue(EVENT_LOG_STREAM, passive=True)
        marker = f"kooperacja-catch-up-marker:{uuid4()}".encode()
        await channel.default_exchange.publish(
            aio_pika.Message(marker, headers={MARKER_HEADER: "1"}), routing_key=EVENT_LOG_STREAM
        )
        bodies: list[bytes] = []
        async with queue.iterator(arguments={"x-stream-offset": "first"}) as messages:
            while True:
                message = await asyncio.wait_for(messages.__anext__(), timeout=idle_seconds)
                await message.ack()
                if message.body == marker:
                    return bodies
                bodies.append(message.body)
    finally:
        await connection.close()


async def apply(pool: asyncpg.Pool, bodies: list[bytes]) -> int:
    """Handle the log's events this service handles, each once; how many took effect."""
    wanted = []
    for body in bodies:
        try:
            envelope = parse_envelope(body)
        except MalformedEvent:
            continue
        if not handlers.handles(envelope.routing_key):
            continue
        try:
            wanted.append((envelope, open_envelope(envelope)))
        except MalformedEvent:
            continue
    applied = 0
    for start in range(0, len(wanted), BATCH):
        batch = wanted[start : start + BATCH]
        async with pool.acquire() as conn, conn.transaction():
            new = await first_times(conn, [(env.id, env.routing_key) for env, _ in batch])
            for envelope, event in batch:
                if envelope.id in new:
                    registered = handlers.get(envelope.routing_key)
                    assert registered is not None
                    await registered.fn(conn, event, envelope)  # type: ignore[call-arg, arg-type]
                    applied += 1
    return applied


@every(lambda: partnership_settings().catch_up_retry_seconds, name="catch_up")
async def catch_up_once(ctx: ServiceContext) -> None:
    """A job (ServiceSpec.jobs): the catch-up, unless done before or switched off. A failed
    pass is logged and counted by the job runner and tried again later."""
    settings = partnership_settings()
    if not settings.catch_up:
        return
    async with ctx.pool.acquire() as conn:
        if await conn.fetchval("SELECT true FROM catch_up LIMIT 1"):
            return
    bodies = await read_log(ctx.settings.amqp_url, settings.catch_up_idle_seconds)
    applied = await apply(ctx.pool, bodies)
    async with ctx.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO catch_up (events, seeded) VALUES ($1, $2)", len(bodies), applied
        )
    log.info("caught up from the event log: %d events read, %d applied", len(bodies), applied)
