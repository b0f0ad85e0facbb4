"""Reporting's event handlers: each event records the facts it states (domain.facts_of).

The consumer has already opened the transaction and checked the inbox. Facts merge by rules that
do not depend on order, so a referral event before its case event is kept, not lost, and an
event handled twice (a replay, a redelivery) changes nothing the second time.
"""

from __future__ import annotations

import asyncpg

from services.reporting import domain, store
from shared.consumer import Handlers
from shared.envelope import Envelope
from shared.events import ALL_EVENTS, Event, PartnershipChanged

handlers = Handlers()

# Events reporting leaves aside, and why (a rebuild says so of those it skips).
NOT_REPORTED: dict[str, str] = {
    PartnershipChanged.routing_key: "who sits on a PZK is no figure of the reports",
}
REPORTED_EVENTS: tuple[type[Event], ...] = tuple(
    e for e in ALL_EVENTS if e.routing_key not in NOT_REPORTED
)


@handlers.on_each_batch(*REPORTED_EVENTS)
async def record_facts(tx: asyncpg.Connection, events: list[tuple[Event, Envelope]]) -> None:
    """The facts of a whole batch, folded and written with one statement per table."""
    await store.record(
        tx, [f for event, envelope in events for f in domain.facts_of(event, envelope)]
    )
