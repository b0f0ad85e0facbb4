"""The raw limit: one durable hop written directly on aio-pika and asyncpg.

Consume with manual ack, dedupe + write one row in one transaction, publish the next event
persistent with a publisher confirm, ack. Flood (a preloaded queue) and paced (a fixed rate,
latency from publish to the hop's output).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from dataclasses import dataclass

import aio_pika
import asyncpg

from bench.environment import percentile
from shared.db import ensure_database
from shared.settings import Settings

IN, OUT, EXCHANGE = "bench.hop.in", "bench.hop.out", "bench.hop"


@dataclass
class HopResult:
    mode: str
    messages: int
    seconds: float
    rate: float
    p50_ms: float = float("nan")
    p99_ms: float = float("nan")
    cpu_ms_per_msg: float = float("nan")  # the hop's own process, not the broker's or database's


async def _setup(settings: Settings) -> tuple[asyncpg.Pool, aio_pika.abc.AbstractRobustConnection]:
    url = settings.database_url("baseline")
    await ensure_database(url)
    pool = await asyncpg.create_pool(url, min_size=10, max_size=10)
    assert pool is not None
    await pool.execute("""
        CREATE TABLE IF NOT EXISTS inbox (event_id uuid PRIMARY KEY);
        CREATE TABLE IF NOT EXISTS effects (event_id uuid NOT NULL, body bytea NOT NULL);
        TRUNCATE inbox, effects;""")
    connection = await aio_pika.connect_robust(settings.amqp_url)
    channel = await connection.channel()
    exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
    for name in (IN, OUT):
        queue = await channel.declare_queue(
            name, durable=True, arguments={"x-queue-type": "quorum"}
        )
        await queue.purge()
    out = await channel.declare_queue(OUT, passive=True)
    await out.bind(exchange, routing_key="#")
    return pool, connection


def _message(sent_at: float) -> aio_pika.Message:
    body = json.dumps({"id": str(uuid.uuid4()), "sent_at": sent_at, "pad": "x" * 400}).encode()
    return aio_pika.Message(body=body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)


async def _hop(
    pool: asyncpg.Pool,
    connection: aio_pika.abc.AbstractRobustConnection,
    prefetch: int,
    on_done: asyncio.Queue[float],
) -> aio_pika.abc.AbstractChannel:
    channel = await connection.channel(publisher_confirms=True)
    await channel.set_qos(prefetch_count=prefetch)
    exchange = await channel.get_exchange(EXCHANGE)
    queue = await channel.declare_queue(IN, passive=True)

    async def handle(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        event = json.loads(message.body)
        async with pool.acquire() as conn, conn.transaction():
            fresh = await conn.execute(
                "INSERT INTO inbox VALUES ($1) ON CONFLICT DO NOTHING", uuid.UUID(event["id"])
            )
            if fresh == "INSERT 0 1":
                await conn.execute(
                    "INSERT INTO effects VALUES ($1, $2)", uuid.UUID(event["id"]), message.body
                )
        await exchange.publish(
            aio_pika.Message(body=message.body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key="hop.done",
        )
        await message.ack()
        on_done.put_nowait(event["sent_at"])

    await queue.consume(handle)
    return channel


async def flood(settings: Settings, messages: int, prefetch: int = 100) -> HopResult:
    pool, connection = await _setup(settings)
    try:
        channel = await connection.channel(publisher_confirms=True)
        for start in range(0, messages, 200):
            await asyncio.gather(
                *(
                    channel.default_exchange.publish(_message(0.0), routing_key=IN)
                    for _ in range(min(200, messages - start))
                )
            )
        loaded = await channel.declare_queue(IN, passive=True)
        assert loaded.declaration_result.message_count == messages, "preload incomplete"
        done: asyncio.Queue[float] = asyncio.Queue()
        began, cpu = time.perf_counter(), time.process_time()
        hop_channel = await _hop(pool, connection, prefetch, done)
        for _ in range(messages):
            await done.get()
        seconds = time.perf_counter() - began
        cpu_ms = (time.process_time() - cpu) * 1000 / messages
        await hop_channel.close()
        return HopResult("flood", messages, seconds, messages / seconds, cpu_ms_per_msg=cpu_ms)
    finally:
        await connection.close()
        await pool.close()


async def paced(settings: Settings, rate: float, seconds: float, prefetch: int = 100) -> HopResult:
    """Publish at `rate` msg/s; latency is publish → the hop's output arriving downstream."""
    pool, connection = await _setup(settings)
    try:
        latencies: list[float] = []
        all_arrived = asyncio.Event()
        total = int(rate * seconds)
        out_channel = await connection.channel()
        out = await out_channel.declare_queue(OUT, passive=True)

        async def on_out(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            latencies.append(time.time() - json.loads(message.body)["sent_at"])
            await message.ack()
            if len(latencies) >= total:
                all_arrived.set()

        await out.consume(on_out)
        done: asyncio.Queue[float] = asyncio.Queue()
        hop_channel = await _hop(pool, connection, prefetch, done)
        channel = await connection.channel(publisher_confirms=True)
        began = time.perf_counter()
        pending = set()
        for i in range(total):
            due = began + i / rate
            if (delay := due - time.perf_counter()) > 0:
                await asyncio.sleep(delay)
            pending.add(
                asyncio.create_task(
                    channel.default_exchange.publish(_message(time.time()), routing_key=IN)
                )
            )
            pending = {t for t in pending if not t.done()}
        await asyncio.gather(*pending)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_arrived.wait(), timeout=60)
        elapsed = time.perf_counter() - began
        await hop_channel.close()
        ms = [x * 1000 for x in latencies]
        return HopResult(
            "paced",
            len(latencies),
            elapsed,
            len(latencies) / elapsed,
            percentile(ms, 50),
            percentile(ms, 99),
        )
    finally:
        await connection.close()
        await pool.close()
