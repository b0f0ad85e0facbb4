"""Runs one service as a process: database and migrations, broker topology, event consumer,
outbox relay, HTTP API and background jobs; stops them in order on SIGINT/SIGTERM so that
in-flight messages are finished or returned to the queue."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import uvicorn
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractRobustConnection
from fastapi import FastAPI, Request
from faststream import AckPolicy
from faststream.rabbit import Channel, QueueType, RabbitBroker, RabbitQueue
from faststream.rabbit.annotations import RabbitMessage

from shared import catch_up, metrics
from shared.acks import AckWindow
from shared.consumer import EventConsumer, Handlers, Outcome, Verdict
from shared.db import create_pool, prepare_database
from shared.jobs import Job, every
from shared.outbox import Origin, OutboxRelay, backlog
from shared.settings import InsecureConfiguration, Settings, get_settings
from shared.topology import (
    DEAD_LETTER_EXCHANGE,
    declare_event_log,
    declare_exchange,
    declare_service_queues,
    queue_name,
)

log = logging.getLogger(__name__)


@dataclass
class ServiceContext:
    """What a running service's API routes and jobs need: its pool, origin and settings."""

    name: str
    settings: Settings
    pool: asyncpg.Pool
    origin: Origin


@dataclass
class ServiceSpec:
    name: str
    migrations: Path
    build_api: Callable[[], FastAPI]
    handlers: Handlers | None = None
    jobs: list[Job] = field(default_factory=list)
    # Read the past events of the types it consumes from the event log, on its first start and
    # for a type it begins to consume (shared/catch_up.py); its database keeps the progress.
    catch_up: bool = False


def context(request: Request) -> ServiceContext:
    """FastAPI dependency: the running service's context."""
    return request.app.state.ctx


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: the runtime owns shutdown order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class ServiceRuntime:
    def __init__(self, spec: ServiceSpec, settings: Settings | None = None) -> None:
        self.spec = spec
        self.settings = settings or get_settings()
        self.name = spec.name
        self.stopping = asyncio.Event()
        self._amqp: AbstractRobustConnection | None = None
        self._dead_letters: AbstractExchange | None = None
        self._consumer: EventConsumer | None = None

    async def run(self) -> None:
        s = self.settings
        s.check_security()  # before anything listens: no start with keys that forge tokens
        db_url = s.database_url(self.name)
        await prepare_database(db_url, self.name, self.spec.migrations)
        pool = await create_pool(db_url)
        ctx = ServiceContext(self.name, s, pool, Origin(s.region, self.name))

        self._amqp = await aio_pika.connect_robust(s.amqp_url)
        channel = await self._amqp.channel(publisher_confirms=True)
        exchange = await declare_exchange(channel, s.exchange)
        # The event log must exist before the first publish, or early events would be missed.
        await declare_event_log(channel, s.exchange)
        relay = OutboxRelay(
            service=self.name,
            pool=pool,
            database_url=db_url,
            exchange=exchange,
            batch_size=s.outbox_batch,
            poll_seconds=s.outbox_poll_seconds,
        )
        broker = await self._start_consumer(channel, pool) if self.spec.handlers else None

        app = self.spec.build_api()
        app.state.ctx = ctx
        app.state.ready_check = lambda: self._ready(pool, broker)
        app.state.outbox_backlog = lambda: self._backlog(pool)
        server = _QuietServer(
            uvicorn.Config(
                app,
                host=s.http_host,
                port=s.http_port(self.name),
                log_level="warning",
                lifespan="off",
                access_log=False,
            )
        )

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stopping.set)

        # The relay and the HTTP server are the service: when one ends, the service stops.
        # Jobs are not: the runner keeps each going through its failures until the stop.
        tasks = [
            asyncio.create_task(relay.run(), name="outbox-relay"),
            asyncio.create_task(server.serve(), name="http"),
        ]
        jobs = [
            asyncio.create_task(job.run(ctx, self.stopping), name=job.name)
            for job in [_backlog_gauge, *self.spec.jobs]
        ]
        if self.spec.catch_up and self.spec.handlers is not None:
            # Like a job: it ends when it has caught up, which stops nothing.
            jobs.append(asyncio.create_task(self._catch_up(pool), name="catch-up"))
        log.info("%s listening on %s", self.name, s.base_url(self.name))
        print(f"{self.name} ready on {s.base_url(self.name)}", flush=True)
        await self._until_stopped(tasks)

        # Stop taking messages first; FastStream waits for the handlers in flight, and what is
        # not acked returns to the queue when the channel closes.
        if broker is not None:
            await broker.stop()
        if self._consumer is not None:
            await self._consumer.close()
        server.should_exit = True
        await relay.stop()
        await asyncio.gather(*tasks, *jobs, return_exceptions=True)
        await self._amqp.close()
        await pool.close()
        log.info("%s stopped", self.name)

    async def _catch_up(self, pool: asyncpg.Pool) -> None:
        """Past events from the event log, beside the live queue (declared and bound before
        the catch-up puts its end marker in the log, so nothing falls between the two)."""
        handlers = self.spec.handlers
        assert handlers is not None
        consumer = EventConsumer(
            service=self.name,
            pool=pool,
            handlers=handlers,
            max_attempts=self.settings.max_attempts,
            batch_size=self.settings.prefetch,
            max_message_bytes=self.settings.max_event_bytes,
        )
        try:
            await catch_up.keep_catching_up(
                service=self.name,
                pool=pool,
                consumer=consumer,
                amqp_url=self.settings.amqp_url,
                keys=handlers.routing_keys,
                stopping=self.stopping,
            )
        finally:
            await consumer.close()

    async def _until_stopped(self, tasks: list[asyncio.Task[Any]]) -> None:
        stop = asyncio.create_task(self.stopping.wait())
        done, _ = await asyncio.wait([stop, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not stop and task.exception() is not None:
                log.error("%s: %s crashed: %r", self.name, task.get_name(), task.exception())
        self.stopping.set()
        stop.cancel()

    async def _start_consumer(self, channel: AbstractChannel, pool: asyncpg.Pool) -> RabbitBroker:
        s = self.settings
        handlers = self.spec.handlers
        assert handlers is not None
        await declare_service_queues(
            channel,
            exchange=s.exchange,
            service=self.name,
            routing_keys=handlers.routing_keys,
            max_attempts=s.max_attempts,
        )
        self._dead_letters = await channel.get_exchange(DEAD_LETTER_EXCHANGE)
        # A batch can hold at most what the prefetch lets in flight.
        consumer = EventConsumer(
            service=self.name,
            pool=pool,
            handlers=handlers,
            max_attempts=s.max_attempts,
            batch_size=s.prefetch,
            max_message_bytes=s.max_event_bytes,
        )
        self._consumer = consumer
        acks = AckWindow()
        # Per-message logs at DEBUG: at INFO they drown what matters.
        broker = RabbitBroker(s.amqp_url, graceful_timeout=30, logger=log, log_level=logging.DEBUG)

        @broker.subscriber(
            RabbitQueue(queue_name(self.name), queue_type=QueueType.QUORUM, declare=False),
            ack_policy=AckPolicy.MANUAL,
            channel=Channel(prefetch_count=s.prefetch),
        )
        async def on_event() -> None:
            # Taken from the context, not as an annotated parameter: FastStream resolves such a
            # parameter in a worker thread, a thread hop per message that showed in profiles.
            message: RabbitMessage = broker.context.get_local("message")
            outcome = await consumer.handle(message.body, message.headers)
            if outcome.verdict is Verdict.ACK:
                await acks.ack(message.raw_message)
                return
            if outcome.verdict is Verdict.RETRY:
                await message.nack(requeue=True)
            else:
                await self._dead_letter(message, outcome)
                await message.ack()
            acks.settled(message.raw_message)

        await broker.start()
        return broker

    async def _dead_letter(self, message: Any, outcome: Outcome) -> None:
        """Keep the message, with why it failed, in this service's dead-letter queue."""
        assert self._dead_letters is not None
        raw = message.raw_message
        headers = {k: v for k, v in (message.headers or {}).items() if k != "x-delivery-count"}
        headers.update(
            {
                "x-error": outcome.reason[:2000],
                "x-attempts": outcome.attempts,
                "x-failed-at": datetime.now(UTC).isoformat(),
                "x-service": self.name,
                "x-original-routing-key": raw.routing_key or "",
            }
        )
        await self._dead_letters.publish(
            aio_pika.Message(
                body=message.body,
                headers=headers,
                content_type=raw.content_type,
                message_id=raw.message_id,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=self.name,
        )
        metrics.EVENTS_DEAD_LETTERED.labels(self.name).inc()

    async def _ready(self, pool: asyncpg.Pool, broker: RabbitBroker | None) -> dict[str, bool]:
        checks = {"database": False, "broker": bool(self._amqp and not self._amqp.is_closed)}
        with contextlib.suppress(Exception):
            checks["database"] = await pool.fetchval("SELECT true")
        if broker is not None:
            with contextlib.suppress(Exception):
                checks["consumer"] = await broker.ping(timeout=2)
        return checks

    async def _backlog(self, pool: asyncpg.Pool) -> int | None:
        with contextlib.suppress(Exception):
            return await backlog(pool)
        return None


@every(5, name="backlog-gauge")
async def _backlog_gauge(ctx: ServiceContext) -> None:
    metrics.OUTBOX_BACKLOG.labels(ctx.name).set(await backlog(ctx.pool))


def run_service(spec: ServiceSpec) -> None:
    settings = get_settings()
    logging.basicConfig(
        level=settings.log_level,
        format=f"%(asctime)s {spec.name} %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings.check_security()
    except InsecureConfiguration as exc:
        log.critical("%s refuses to start: %s", spec.name, exc)
        raise SystemExit(2) from exc
    asyncio.run(ServiceRuntime(spec, settings).run())
