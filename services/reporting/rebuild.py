"""Rebuild of the projections from the event log (the RabbitMQ stream), then back to live.

In one transaction: lock the inbox against the live consumer, forget every fact, put a marker
at the end of the stream, replay the stream from its first offset up to the marker in batches
and record every replayed event in the inbox; commit. Live events waiting meanwhile then find
their id in the inbox (already replayed) or not (they came after the marker), so none is lost or
counted twice. Readers see the old figures until the commit.

Each batch is parsed in one pydantic pass (envelope and data together), turned into facts by
`domain.facts_of`, folded, and loaded by binary COPY into staging tables merged into the
projections by the merge rules (store.load). While the database merges one batch, the next one
is read and parsed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import EllipsisType
from typing import Annotated, Any, Literal, Union

import asyncpg
from pydantic import BeforeValidator, Field, TypeAdapter, ValidationError, create_model

from services.reporting import domain, store
from services.reporting.event_log import MARKER_PREFIX, read_event_log
from services.reporting.handlers import NOT_REPORTED, REPORTED_EVENTS
from services.reporting.settings import reporting_settings
from shared import locks
from shared.envelope import TYPE_PREFIX, Envelope, MalformedEvent, parse_envelope
from shared.errors import Conflict
from shared.events import EVENTS_BY_KEY
from shared.settings import get_settings

log = logging.getLogger(__name__)


def _typed_envelope(event_cls: type) -> type[Envelope]:
    """The envelope of one event type, its data that event: both validated in one pass (an
    older shape of the data brought up to date first, as `open_envelope` does live)."""
    return create_model(
        f"{event_cls.__name__}Envelope",
        __base__=Envelope,
        type=(Literal[TYPE_PREFIX + event_cls.routing_key], ...),  # type: ignore[attr-defined]
        data=(Annotated[event_cls, BeforeValidator(event_cls.from_wire)], ...),  # type: ignore[attr-defined]
    )


# Only the events reporting handles: any other (partnership.changed, an unknown type or
# version, data off schema, not JSON, a marker) fails here and is skipped, as live it is
# ignored or dead-lettered.
_REPORTED = TypeAdapter(
    Annotated[
        Union[tuple(_typed_envelope(e) for e in REPORTED_EVENTS)],  # noqa: UP007
        Field(discriminator="type"),
    ]
)


def parse(body: bytes) -> Any:
    """The envelope of a reported event, with the typed event as its `data`; None if the
    body is no such event."""
    try:
        return _REPORTED.validate_json(body)
    except ValidationError:
        return None


def why_skipped(body: bytes) -> str:
    """What a message of the log that `parse` refused is, and why the rebuild leaves it out
    (as live it is ignored or dead-lettered): the operator reads this."""
    if body.startswith(MARKER_PREFIX):
        return "rebuild markers: the end of an earlier rebuild's replay, not events"
    try:
        envelope = parse_envelope(body)
    except MalformedEvent:
        return "malformed messages: not a CloudEvents envelope"
    key = envelope.routing_key
    if key in NOT_REPORTED:
        return f"{key} events: not reported ({NOT_REPORTED[key]})"
    if key not in EVENTS_BY_KEY:
        return f"{key} events: a type or version reporting does not know"
    return f"{key} events: data off the event's schema"


@dataclass(frozen=True)
class Batch:
    rows: store.Rows
    handled: list[tuple[Any, str]]
    skipped: Counter[str]  # why -> how many


def prepare(bodies: list[bytes]) -> Batch:
    """A batch of the log as folded rows and the events to record in the inbox."""
    facts: list[domain.Fact] = []
    handled: list[tuple[Any, str]] = []
    skipped: Counter[str] = Counter()
    limit = get_settings().max_event_bytes
    for body in bodies:
        if len(body) > limit:  # live, it is dead-lettered unread
            skipped[f"oversized messages: larger than {limit} bytes (KOOP_MAX_EVENT_BYTES)"] += 1
            continue
        envelope = parse(body)
        if envelope is None:
            skipped[why_skipped(body)] += 1
            continue
        facts.extend(domain.facts_of(envelope.data, envelope))
        handled.append((envelope.id, envelope.routing_key))
    return Batch(store.as_records(facts), handled, skipped)


@dataclass(frozen=True)
class Rebuilt:
    events: int  # replayed and applied
    skipped: int  # not for reporting, malformed, or other rebuilds' markers
    seconds: float
    skipped_because: dict[str, int] = field(default_factory=dict)  # why -> how many

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


async def _prepared(
    amqp_url: str, stream_url: str | None, *, batch_size: int, prefetch: int
) -> AsyncIterator[Batch]:
    """The log's batches prepared ahead: the next is read and parsed while the caller awaits
    the database with this one."""
    ahead: asyncio.Queue[Batch | None] = asyncio.Queue()
    room = asyncio.Semaphore(2)  # the batch being loaded and the next one

    async def produce() -> None:
        try:
            async for bodies in read_event_log(
                amqp_url, stream_url, batch_size=batch_size, prefetch=prefetch
            ):
                await room.acquire()
                ahead.put_nowait(prepare(bodies))
        finally:
            ahead.put_nowait(None)

    producer = asyncio.create_task(produce())
    try:
        while (batch := await ahead.get()) is not None:
            yield batch
            room.release()
        await producer  # the reader's error, if it failed
    finally:
        producer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await producer


async def rebuild(
    pool: asyncpg.Pool,
    amqp_url: str,
    *,
    stream_url: str | EllipsisType | None = ...,
    batch_size: int = 5000,
    prefetch: int = 4000,
) -> Rebuilt:
    """Replay the log into empty projections; over the stream protocol at `stream_url` (by
    default from the settings; None: not at all) when it can be used, else over AMQP."""
    if stream_url is ...:
        stream_url = reporting_settings().event_log_url(amqp_url)
    started = time.perf_counter()
    applied = 0
    skipped: Counter[str] = Counter()
    async with pool.acquire() as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", locks.REBUILD):
            raise Conflict("rebuild_running", "a rebuild of the projections is already running")
        try:
            async with conn.transaction():
                # The live consumer writes the inbox first: with it locked, live handling
                # waits for the commit, and readers go on reading the old figures.
                await conn.execute("LOCK TABLE inbox IN EXCLUSIVE MODE")
                await store.forget_everything(conn)
                await store.create_staging(conn)
                batches = _prepared(amqp_url, stream_url, batch_size=batch_size, prefetch=prefetch)
                async with contextlib.aclosing(batches):
                    async for batch in batches:
                        await store.load(conn, batch.rows, batch.handled)
                        applied += len(batch.handled)
                        skipped.update(batch.skipped)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", locks.REBUILD)
    result = Rebuilt(
        applied, skipped.total(), time.perf_counter() - started, dict(skipped.most_common())
    )
    log.info(
        "rebuilt the projections from %d events (%d skipped%s) in %.1fs, %.0f events/s",
        result.events,
        result.skipped,
        "".join(f"; {n} {why}" for why, n in result.skipped_because.items()),
        result.seconds,
        result.events_per_second,
    )
    return result
