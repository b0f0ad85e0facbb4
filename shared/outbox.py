"""Transactional outbox: `add` writes events in the caller's transaction; `OutboxRelay` publishes
them afterwards, persistent and confirmed, and is safe to run in several instances."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass, field

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


_Item = tuple[Origin, tuple[Event, ...], Envelope | None]


@dataclass
class _Deferred:
    tx: asyncpg.Connection
    items: list[_Item] = field(default_factory=list)


# Set by the consumer around a batch: the events its handlers add are written in one go at the
# end of the batch (two statements for all), not two round trips per event.
_deferred: ContextVar[_Deferred | None] = ContextVar("outbox_deferred", default=None)


async def add(
    tx: asyncpg.Connection,
    origin: Origin,
    *events: Event,
    cause: Envelope | None = None,
) -> None:
    """Record events to be published once the surrounding transaction commits.

    With `cause`, the events continue its correlation and name it as their causation.
    """
    if not events:
        return
    deferred = _deferred.get()
    if deferred is not None and deferred.tx is tx:
        deferred.items.append((origin, events, cause))
    else:
        await _write(tx, [(origin, events, cause)])


@contextlib.asynccontextmanager
async def deferred(tx: asyncpg.Connection) -> AsyncIterator[None]:
    """Collect what `add` is given on `tx` inside the block and write it when the block ends
    without an error (on an error the transaction is rolled back anyway)."""
    collected = _Deferred(tx)
    token = _deferred.set(collected)
    try:
        yield
    finally:
        _deferred.reset(token)
    if collected.items:
        await _write(tx, collected.items)


async def _write(tx: asyncpg.Connection, items: list[_Item]) -> None:
    subjects = [event.subject for _, events, _ in items for event in events]
    # Each subject's counter moves by the number of its events in one statement; the events
    # then take the numbers up to the new value in the order they were added.
    rows = await tx.fetch(
        """INSERT INTO event_sequence AS s (subject, last)
           SELECT subject, count(*) FROM unnest($1::text[]) AS subject GROUP BY subject
           ON CONFLICT (subject) DO UPDATE SET last = s.last + EXCLUDED.last
           RETURNING subject, last""",
        subjects,
    )
    taken = Counter(subjects)
    next_of = {r["subject"]: r["last"] - taken[r["subject"]] + 1 for r in rows}
    envelopes = []
    for origin, events, cause in items:
        for event in events:
            sequence = next_of[event.subject]
            next_of[event.subject] += 1
            envelopes.append(
                wrap(
                    event,
                    region=origin.region,
                    service=origin.service,
                    correlation_id=cause.correlationid if cause else None,
                    causation_id=str(cause.id) if cause else None,
                    sequence=sequence,
                )
            )
    # executemany keeps the order, so positions follow the order the events were added in.
    await tx.executemany(
        "INSERT INTO outbox (event_id, routing_key, body) VALUES ($1, $2, $3)",
        [(e.id, e.routing_key, e.to_bytes()) for e in envelopes],
    )


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
