"""Event consumption: decode, dedupe through the inbox, run the handler, all in one transaction;
then decide what the broker should do with the delivery.

A message that can never succeed (malformed, off schema, unknown type) is dead-lettered at once;
one whose handler fails is retried up to `max_attempts`, then dead-lettered with the error.
"""

from __future__ import annotations

import asyncio
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


class EventConsumer:
    def __init__(
        self, *, service: str, pool: asyncpg.Pool, handlers: Handlers, max_attempts: int
    ) -> None:
        self.service = service
        self.pool = pool
        self.handlers = handlers
        self.max_attempts = max_attempts

    async def handle(self, body: bytes, headers: Mapping[str, Any]) -> Outcome:
        attempt = attempts_so_far(headers) + 1
        try:
            envelope = parse_envelope(body)
            event = open_envelope(envelope)
        except MalformedEvent as exc:
            metrics.EVENTS_FAILED.labels(self.service).inc()
            log.error("%s: dead-lettering malformed message: %s", self.service, exc)
            return Outcome(Verdict.DEAD_LETTER, f"{type(exc).__name__}: {exc}", attempt)
        handler = self.handlers.get(envelope.routing_key)
        if handler is None:
            # Bound by mistake or by an operator: keep it visible rather than drop it.
            reason = f"NoHandler: {self.service} does not handle {envelope.type}"
            return Outcome(Verdict.DEAD_LETTER, reason, attempt)
        started = time.perf_counter()
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                # Messages are handled concurrently (up to the prefetch); events of one case
                # (subject) are not, in this instance or any other: both transactions would
                # read before either wrote, e.g. an open and a close of the same case.
                await conn.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                    envelope.subject or str(envelope.id),
                )
                if not await inbox.first_time(conn, envelope.id, envelope.routing_key):
                    metrics.EVENTS_DUPLICATE.labels(self.service).inc()
                    return Outcome(Verdict.ACK, "duplicate", attempt)
                await handler(conn, event, envelope)
        except Exception as exc:
            metrics.EVENTS_FAILED.labels(self.service).inc()
            reason = f"{type(exc).__name__}: {exc}"
            if attempt >= self.max_attempts:
                log.error(
                    "%s: %s %s failed %d times, dead-lettering: %s",
                    self.service,
                    envelope.type,
                    envelope.id,
                    attempt,
                    reason,
                )
                return Outcome(Verdict.DEAD_LETTER, reason, attempt)
            log.warning(
                "%s: %s %s failed (attempt %d of %d): %s",
                self.service,
                envelope.type,
                envelope.id,
                attempt,
                self.max_attempts,
                reason,
            )
            # A short, growing pause so a passing fault (a restart, a lock) can clear.
            await asyncio.sleep(min(0.05 * 2**attempt, 2.0))
            return Outcome(Verdict.RETRY, reason, attempt)
        metrics.EVENTS_HANDLED.labels(self.service, envelope.routing_key).inc()
        metrics.HANDLER_SECONDS.labels(self.service, envelope.routing_key).observe(
            time.perf_counter() - started
        )
        return Outcome(Verdict.ACK, "", attempt)
