"""Event consumption: decode, dedupe through the inbox, run the handler, all in one transaction;
then decide what the broker should do with the delivery.

A message that can never succeed (malformed, off schema, unknown type) is dead-lettered at once;
one whose handler fails is retried up to `max_attempts`, then dead-lettered with the error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar
from uuid import UUID

import asyncpg

from shared import inbox, locks, metrics, outbox
from shared.envelope import Envelope, MalformedEvent, open_envelope, parse_envelope
from shared.events import Event
from shared.settings import MAX_EVENT_BYTES

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)
Handler = Callable[[asyncpg.Connection, Any, Envelope], Awaitable[None]]


# The database is away, not the message at fault: a batch meeting these waits and tries again.
DATABASE_UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
)
DATABASE_WAIT_FIRST_SECONDS = 0.5
DATABASE_WAIT_MAX_SECONDS = 10.0


class Verdict(Enum):
    ACK = "ack"  # effect committed, or a duplicate
    RETRY = "retry"  # put it back for another attempt
    DEAD_LETTER = "dead_letter"  # give up, keep it with the reason


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    reason: str = ""
    attempts: int = 1


BulkHandler = Callable[[asyncpg.Connection, list[tuple[Any, Envelope]]], Awaitable[None]]


@dataclass(frozen=True)
class _Registered:
    fn: Handler | BulkHandler
    bulk: bool


class Handlers:
    """The event handlers of one service, by routing key.

    A handler runs in the consumer's transaction, after the inbox check, holding the lock of
    its event's subject (shared.locks). `on` registers a handler of one event at a time, run in
    arrival order; `on_each_batch` one that takes all its events of a batch at once, for effects
    that do not depend on order (reporting's facts): one statement for the batch, not one each.
    """

    def __init__(self) -> None:
        self._by_key: dict[str, _Registered] = {}

    def _register(self, event_cls: type[Event], registered: _Registered) -> None:
        if event_cls.routing_key in self._by_key:
            raise ValueError(f"two handlers for {event_cls.routing_key}")
        self._by_key[event_cls.routing_key] = registered

    def on(self, event_cls: type[E]) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self._register(event_cls, _Registered(fn, bulk=False))
            return fn

        return register

    def on_each_batch(self, *event_classes: type[Event]) -> Callable[[BulkHandler], BulkHandler]:
        def register(fn: BulkHandler) -> BulkHandler:
            for event_cls in event_classes:
                self._register(event_cls, _Registered(fn, bulk=True))
            return fn

        return register

    @property
    def routing_keys(self) -> list[str]:
        return sorted(self._by_key)

    def handles(self, routing_key: str) -> bool:
        return routing_key in self._by_key

    def get(self, routing_key: str) -> _Registered | None:
        return self._by_key.get(routing_key)

    async def run_one(self, tx: asyncpg.Connection, event: Event, envelope: Envelope) -> None:
        """The handler of one event, alone (a bulk handler with a batch of one)."""
        registered = self._by_key[envelope.routing_key]
        if registered.bulk:
            await registered.fn(tx, [(event, envelope)])  # type: ignore[call-arg]
        else:
            await registered.fn(tx, event, envelope)  # type: ignore[call-arg]


def attempts_so_far(headers: Mapping[str, Any]) -> int:
    """How many deliveries came before this one (quorum queues count them in x-delivery-count)."""
    value = headers.get("x-delivery-count", 0)
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class _HandlerFailed(Exception):
    """A handler raised in a batch run without savepoints: run it again with them."""


@dataclass
class _Delivery:
    """One message waiting for its batch, and the verdict its callback awaits."""

    body: bytes
    headers: Mapping[str, Any]
    outcome: asyncio.Future[Outcome]
    attempt: int = 1
    envelope: Envelope | None = None
    event: Event | None = None


class EventConsumer:
    """Handles deliveries in batches: the broker's callbacks run concurrently (up to the
    prefetch) and each hands its message here; one loop takes what is waiting (up to
    `batch_size`), handles it in ONE transaction, commits, then answers every callback with its
    verdict, so the ack follows the commit.

    A batch runs first as a whole: one inbox statement, the handlers, the outbox written once.
    Only when a message fails is it run again with each message in its own savepoint: the
    failing one rolls back alone and gets its retry or dead-letter verdict; the others commit.

    Round trips to the database, not Python, are what a hop costs on a small machine; a batch
    makes few for many messages. Batches run one after another, so the events of one case
    (subject) are handled in arrival order in this instance; the advisory lock per subject
    keeps them apart from other instances and from API calls.
    """

    def __init__(
        self,
        *,
        service: str,
        pool: asyncpg.Pool,
        handlers: Handlers,
        max_attempts: int,
        batch_size: int = 100,
        max_message_bytes: int = MAX_EVENT_BYTES,
    ) -> None:
        self.service = service
        self.max_message_bytes = max_message_bytes
        self.pool = pool
        self.handlers = handlers
        self.max_attempts = max_attempts
        self.batch_size = batch_size
        self._waiting: asyncio.Queue[_Delivery] = asyncio.Queue()
        self._loop_task: asyncio.Task[None] | None = None

    async def handle(self, body: bytes, headers: Mapping[str, Any]) -> Outcome:
        """The verdict for one delivery, once its batch has committed (or failed)."""
        if len(body) > self.max_message_bytes:
            # Never parsed, never held in a batch: kept in the dead-letter queue with why.
            metrics.EVENTS_FAILED.labels(self.service).inc()
            reason = (
                f"TooLarge: {len(body)} bytes, more than the {self.max_message_bytes} an event "
                "may have (KOOP_MAX_EVENT_BYTES)"
            )
            log.error("%s: dead-lettering an oversized message: %s", self.service, reason)
            return Outcome(Verdict.DEAD_LETTER, reason, attempts_so_far(headers) + 1)
        if self._loop_task is None or self._loop_task.done():
            self._loop_task = asyncio.create_task(self._run(), name=f"{self.service}-batches")
        delivery = _Delivery(body, headers, asyncio.get_running_loop().create_future())
        await self._waiting.put(delivery)
        outcome = await delivery.outcome
        if outcome.verdict is Verdict.RETRY:
            # A short, growing pause so a passing fault (a restart, a lock) can clear; here,
            # not in the batch loop, so that the other messages keep flowing.
            await asyncio.sleep(min(0.05 * 2**outcome.attempts, 2.0))
        return outcome

    async def close(self) -> None:
        """Stop the batch loop; call once no callback is waiting any more."""
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task

    async def _run(self) -> None:
        while True:
            batch = [await self._waiting.get()]
            # No lingering: what arrived while the last batch committed is the next batch, so
            # a lone message waits for nothing and a flood fills batches by itself.
            while len(batch) < self.batch_size and not self._waiting.empty():
                batch.append(self._waiting.get_nowait())
            await self._handle_until_the_database_answers(batch)

    async def _handle_until_the_database_answers(self, batch: list[_Delivery]) -> None:
        """Handle a batch; while the database cannot be reached (restarting, failing over,
        out of connections) hold the batch and try again, so an outage of the database uses up
        no message's attempts and dead-letters nothing. Any other failure of the transaction
        sends every message back for another attempt."""
        pause = DATABASE_WAIT_FIRST_SECONDS
        while True:
            pending = [d for d in batch if not d.outcome.done()]
            if not pending:
                return
            try:
                await self._handle_batch(pending)
                return
            except DATABASE_UNREACHABLE as exc:
                log.warning(
                    "%s: database unreachable (%s: %s); %d message(s) held, again in %.1f s",
                    self.service, type(exc).__name__, exc, len(pending), pause,
                )  # fmt: skip
                await asyncio.sleep(pause)
                pause = min(pause * 2, DATABASE_WAIT_MAX_SECONDS)
            except Exception as exc:
                # The transaction never committed (commit refused, a bug): nothing of the
                # batch took effect, so every message goes back for another attempt.
                reason = f"{type(exc).__name__}: {exc}"
                log.warning("%s: batch of %d failed: %s", self.service, len(pending), reason)
                for d in pending:
                    if not d.outcome.done():
                        d.outcome.set_result(self._failed(d, reason))
                return

    async def _handle_batch(self, batch: list[_Delivery]) -> None:
        ready: list[_Delivery] = []
        for d in batch:
            if (rejected := self._open(d)) is not None:
                d.outcome.set_result(rejected)
            else:
                ready.append(d)
        if not ready:
            return
        try:
            # Most batches fail nowhere: run them without a savepoint per message (two round
            # trips each saved) ...
            handled = await self._in_one_transaction(ready, isolate=False)
        except _HandlerFailed:
            # ... and when one message fails, everything was rolled back: run the batch again
            # with each message in its own savepoint, so the failure stays with its message.
            handled = await self._in_one_transaction(ready, isolate=True)
        # Committed: only now may the broker forget the messages.
        for d, (outcome, seconds) in zip(ready, handled, strict=True):
            if outcome.verdict is Verdict.ACK and d.envelope is not None:
                if outcome.reason == "duplicate":
                    metrics.EVENTS_DUPLICATE.labels(self.service).inc()
                else:
                    key = d.envelope.routing_key
                    metrics.EVENTS_HANDLED.labels(self.service, key).inc()
                    metrics.HANDLER_SECONDS.labels(self.service, key).observe(seconds)
            d.outcome.set_result(outcome)

    async def _in_one_transaction(
        self, ready: list[_Delivery], *, isolate: bool
    ) -> list[tuple[Outcome, float]]:
        async with self.pool.acquire() as conn, conn.transaction():
            # Events of one case (subject) are never handled at once by two instances, nor by an
            # instance and an API call: both would read before either wrote, e.g. an open and a
            # close of one case.
            await locks.lock_subjects(conn, [_subject(d) for d in ready])
            if isolate:
                handled = []
                for d in ready:
                    started = time.perf_counter()
                    outcome = await self._handle_isolated(conn, d)
                    handled.append((outcome, time.perf_counter() - started))
                return handled
            try:
                return await self._handle_together(conn, ready)
            except Exception as exc:
                raise _HandlerFailed from exc

    async def _handle_together(
        self, conn: asyncpg.Connection, ready: list[_Delivery]
    ) -> list[tuple[Outcome, float]]:
        """The batch with one inbox statement, the one-event handlers in arrival order, each
        bulk handler once, the outbox written once and each lock taken once: a few round trips
        for the whole batch."""
        fresh = await inbox.first_times(conn, [_inbox_key(d) for d in ready])
        async with outbox.deferred(conn):
            with locks.remembered(conn):
                return await self._run_handlers(conn, ready, fresh)

    async def _run_handlers(
        self, conn: asyncpg.Connection, ready: list[_Delivery], fresh: set[UUID]
    ) -> list[tuple[Outcome, float]]:
        handled: list[tuple[Outcome, float]] = []
        bulk: dict[Any, list[tuple[int, _Delivery]]] = {}
        for i, d in enumerate(ready):
            assert d.envelope is not None and d.event is not None
            if d.envelope.id not in fresh:
                handled.append((Outcome(Verdict.ACK, "duplicate", d.attempt), 0.0))
                continue
            fresh.discard(d.envelope.id)  # the same event twice in one batch: once
            handled.append((Outcome(Verdict.ACK, "", d.attempt), 0.0))
            registered = self.handlers.get(d.envelope.routing_key)
            assert registered is not None
            if registered.bulk:
                bulk.setdefault(registered.fn, []).append((i, d))
                continue
            started = time.perf_counter()
            await self.handlers.run_one(conn, d.event, d.envelope)
            handled[i] = (handled[i][0], time.perf_counter() - started)
        for fn, members in bulk.items():
            started = time.perf_counter()
            await fn(conn, [(d.event, d.envelope) for _, d in members])
            share = (time.perf_counter() - started) / len(members)
            for i, _ in members:
                handled[i] = (handled[i][0], share)
        return handled

    def _open(self, d: _Delivery) -> Outcome | None:
        """Decode and find the handler; an Outcome when the message can never be handled."""
        d.attempt = attempts_so_far(d.headers) + 1
        try:
            d.envelope = parse_envelope(d.body)
            d.event = open_envelope(d.envelope)
        except MalformedEvent as exc:
            metrics.EVENTS_FAILED.labels(self.service).inc()
            log.error("%s: dead-lettering malformed message: %s", self.service, exc)
            return Outcome(Verdict.DEAD_LETTER, f"{type(exc).__name__}: {exc}", d.attempt)
        if not self.handlers.handles(d.envelope.routing_key):
            # Bound by mistake or by an operator: keep it visible rather than drop it.
            reason = f"NoHandler: {self.service} does not handle {d.envelope.type}"
            return Outcome(Verdict.DEAD_LETTER, reason, d.attempt)
        return None

    async def _handle_isolated(self, conn: asyncpg.Connection, d: _Delivery) -> Outcome:
        envelope, event = d.envelope, d.event
        assert envelope is not None and event is not None
        try:
            async with conn.transaction():  # a savepoint: this message's effect alone
                if not await inbox.first_time(conn, envelope.id, envelope.routing_key):
                    return Outcome(Verdict.ACK, "duplicate", d.attempt)
                await self.handlers.run_one(conn, event, envelope)
                return Outcome(Verdict.ACK, "", d.attempt)
        except Exception as exc:
            return self._failed(d, f"{type(exc).__name__}: {exc}")

    def _failed(self, d: _Delivery, reason: str) -> Outcome:
        metrics.EVENTS_FAILED.labels(self.service).inc()
        what = d.envelope.type if d.envelope else "message"
        ident = d.envelope.id if d.envelope else "?"
        if d.attempt >= self.max_attempts:
            log.error(
                "%s: %s %s failed %d times, dead-lettering: %s",
                self.service,
                what,
                ident,
                d.attempt,
                reason,
            )
            return Outcome(Verdict.DEAD_LETTER, reason, d.attempt)
        log.warning(
            "%s: %s %s failed (attempt %d of %d): %s",
            self.service,
            what,
            ident,
            d.attempt,
            self.max_attempts,
            reason,
        )
        return Outcome(Verdict.RETRY, reason, d.attempt)


def _subject(d: _Delivery) -> str:
    assert d.envelope is not None
    return d.envelope.subject or str(d.envelope.id)


def _inbox_key(d: _Delivery) -> tuple[UUID, str]:
    assert d.envelope is not None
    return d.envelope.id, d.envelope.routing_key
