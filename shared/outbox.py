"""Transactional outbox: `add` writes events in the caller's transaction; `OutboxRelay` publishes
them afterwards, persistent and confirmed, and is safe to run in several instances."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

import aio_pika
import asyncpg
from aio_pika.abc import AbstractExchange

from shared import metrics
from shared.envelope import CONTENT_TYPE, Envelope, wrap
from shared.events import Event

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Origin:
    """Who emits: the region and the service, as written into `source`."""

    region: str
    service: str


async def add(
    tx: asyncpg.Connection,
    origin: Origin,
    *events: Event,
    cause: Envelope | None = None,
) -> list[Envelope]:
    """Record events to be published once the surrounding transaction commits.

    With `cause`, the events continue its correlation and name it as their causation.
    """
    envelopes = []
    for event in events:
        sequence = await tx.fetchval(
            """INSERT INTO event_sequence (subject, last) VALUES ($1, 1)
               ON CONFLICT (subject) DO UPDATE SET last = event_sequence.last + 1
               RETURNING last""",
            event.subject,
        )
        envelope = wrap(
            event,
            region=origin.region,
            service=origin.service,
            correlation_id=cause.correlationid if cause else None,
            causation_id=str(cause.id) if cause else None,
            sequence=sequence,
        )
        envelopes.append(envelope)
    await tx.executemany(
        "INSERT INTO outbox (event_id, routing_key, body) VALUES ($1, $2, $3)",
        [(e.id, e.routing_key, e.to_bytes()) for e in envelopes],
    )
    return envelopes


async def backlog(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM outbox"))


class OutboxRelay:
    """Publishes committed outbox rows in order of commit, deleting them once confirmed.

    Rows are claimed with FOR UPDATE SKIP LOCKED, so relays of several instances share the work;
    the relay wakes on NOTIFY from the outbox trigger and polls as a fallback.
    """

    def __init__(
        self,
        *,
        service: str,
        pool: asyncpg.Pool,
        database_url: str,
        exchange: AbstractExchange,
        batch_size: int = 500,
        poll_seconds: float = 1.0,
    ) -> None:
        self.service = service
        self.pool = pool
        self.database_url = database_url
        self._exchange = exchange
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        listener = await self._listen()
        try:
            while not self._stopping.is_set():
                if listener is None or listener.is_closed():
                    # A database restart ends the LISTEN connection; polling covers the gap.
                    listener = await self._listen()
                try:
                    published = await self.publish_batch()
                except Exception as exc:
                    # Whatever failed (a broker or database restart, a channel closed under
                    # us), nothing is lost: the rows stay until a publish is confirmed. The
                    # relay must outlive every such fault, or the service would stop.
                    log.warning("outbox relay of %s failed, will retry: %s", self.service, exc)
                    metrics.OUTBOX_FAILURES.labels(self.service).inc()
                    published = 0
                    await self._sleep(self.poll_seconds)
                if published < self.batch_size:
                    await self._sleep(self.poll_seconds)
        finally:
            if listener is not None:
                with contextlib.suppress(Exception):
                    await listener.close()

    async def publish_batch(self) -> int:
        """Publish one batch; returns how many events were published and removed."""
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                """SELECT position, event_id, routing_key, body FROM outbox
                   ORDER BY position LIMIT $1 FOR UPDATE SKIP LOCKED""",
                self.batch_size,
            )
            if not rows:
                return 0
            # All publishes of the batch are in flight at once; each awaits its confirm.
            await asyncio.gather(*(self._publish(r) for r in rows))
            await conn.execute(
                "DELETE FROM outbox WHERE position = ANY($1::bigint[])",
                [r["position"] for r in rows],
            )
        metrics.EVENTS_PUBLISHED.labels(self.service).inc(len(rows))
        return len(rows)

    async def _publish(self, row: asyncpg.Record) -> None:
        message = aio_pika.Message(
            body=bytes(row["body"]),
            content_type=CONTENT_TYPE,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=str(row["event_id"]),
            app_id=self.service,
        )
        await self._exchange.publish(message, routing_key=row["routing_key"])

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def _listen(self) -> asyncpg.Connection | None:
        try:
            conn = await asyncpg.connect(self.database_url)
            await conn.add_listener("outbox", lambda *_: self._wake.set())
            return conn
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("outbox LISTEN unavailable, polling only: %s", exc)
            return None

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._wake.clear()
