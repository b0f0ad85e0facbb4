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

import asyncpg

from shared import inbox, metrics
from shared.envelope import Envelope, MalformedEvent, open_envelope, parse_envelope
from shared.events import Event

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)
Handler = Callable[[asyncpg.Connection, Any, Envelope], Awaitable[None]]


class Verdict(Enum):
    ACK = "ack"  # effect committed, or a duplicate
    RETRY = "retry"  # put it back for another attempt
    DEAD_LETTER = "dead_letter"  # give up, keep it with the reason


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    reason: str = ""
    attempts: int = 1


class Handlers:
    """The event handlers of one service, by routing key."""

    def __init__(self) -> None:
        self._by_key: dict[str, Handler] = {}

    def on(self, event_cls: type[E]) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            if event_cls.routing_key in self._by_key:
                raise ValueError(f"two handlers for {event_cls.routing_key}")
            self._by_key[event_cls.routing_key] = fn
            return fn

        return register

    @property
    def routing_keys(self) -> list[str]:
        return sorted(self._by_key)

    def get(self, routing_key: str) -> Handler | None:
        return self._by_key.get(routing_key)


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
    handler: Handler | None = None


class EventConsumer:
    """Handles deliveries in batches: the broker's callbacks run concurrently (up to the
    prefetch) and each hands its message here; one loop takes what is waiting (up to
    `batch_size`), handles it in ONE transaction, each message in its own savepoint, commits,
    then answers every callback with its verdict, so the ack follows the commit.
    A batch runs first without savepoints; only when a message fails is it run again with one
    savepoint per message.

    One transaction per batch instead of one per message is what lets a hop keep up with the
    raw broker and database. A failing message rolls back to its savepoint alone and gets its
    retry or dead-letter verdict; the others commit. Batches run one after another, so the
    events of one case (subject) are handled in arrival order in this instance; the advisory
    lock per subject keeps them apart from other instances.
    """

    def __init__(
        self,
        *,
        service: str,
        pool: asyncpg.Pool,
        handlers: Handlers,
        max_attempts: int,
        batch_size: int = 100,
    ) -> None:
        self.service = service
        self.pool = pool
        self.handlers = handlers
        self.max_attempts = max_attempts
        self.batch_size = batch_size
        self._waiting: asyncio.Queue[_Delivery] = asyncio.Queue()
        self._loop_task: asyncio.Task[None] | None = None

    async def handle(self, body: bytes, headers: Mapping[str, Any]) -> Outcome:
        """The verdict for one delivery, once its batch has committed (or failed)."""
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
            try:
                await self._handle_batch(batch)
            except Exception as exc:
                # The transaction never committed (database gone, commit refused): nothing of
                # the batch took effect, so every message goes back for another attempt.
                reason = f"{type(exc).__name__}: {exc}"
                log.warning("%s: batch of %d failed: %s", self.service, len(batch), reason)
                for d in batch:
                    if not d.outcome.done():
                        d.outcome.set_result(self._failed(d, reason))

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
        handled: list[tuple[Outcome, float]] = []
        async with self.pool.acquire() as conn, conn.transaction():
            # Events of one case (subject) are never handled at once by two instances: both
            # transactions would read before either wrote, e.g. an open and a close of one case.
            # Locks are taken in one order (by key) so that two batches cannot deadlock.
            await conn.execute(
                """SELECT pg_advisory_xact_lock(k) FROM (
                       SELECT DISTINCT hashtextextended(s, 0) AS k FROM unnest($1::text[]) s
                       ORDER BY k) keys""",
                [d.envelope.subject or str(d.envelope.id) for d in ready if d.envelope],
            )
            for d in ready:
                started = time.perf_counter()
                if isolate:
                    outcome = await self._handle_isolated(conn, d)
                else:
                    try:
                        outcome = await self._handle_one(conn, d)
                    except Exception as exc:
                        raise _HandlerFailed from exc
                handled.append((outcome, time.perf_counter() - started))
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
        d.handler = self.handlers.get(d.envelope.routing_key)
        if d.handler is None:
            # Bound by mistake or by an operator: keep it visible rather than drop it.
            reason = f"NoHandler: {self.service} does not handle {d.envelope.type}"
            return Outcome(Verdict.DEAD_LETTER, reason, d.attempt)
        return None

    async def _handle_one(self, conn: asyncpg.Connection, d: _Delivery) -> Outcome:
        envelope, handler = d.envelope, d.handler
        assert envelope is not None and handler is not None
        if not await inbox.first_time(conn, envelope.id, envelope.routing_key):
            return Outcome(Verdict.ACK, "duplicate", d.attempt)
        await handler(conn, d.event, envelope)
        return Outcome(Verdict.ACK, "", d.attempt)

    async def _handle_isolated(self, conn: asyncpg.Connection, d: _Delivery) -> Outcome:
        try:
            async with conn.transaction():  # a savepoint: this message's effect alone
                return await self._handle_one(conn, d)
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
