"""Reporting's event handlers: each event updates the facts it speaks of."""

from __future__ import annotations

import asyncpg

from services.reporting import store
from shared.consumer import Handlers
from shared.envelope import Envelope
from shared.events import CaseOpened, SupportAssigned

handlers = Handlers()


@handlers.on(CaseOpened)
async def on_case_opened(tx: asyncpg.Connection, event: CaseOpened, _: Envelope) -> None:
    await store.case_opened(tx, event)


@handlers.on(SupportAssigned)
async def on_support_assigned(
    tx: asyncpg.Connection, event: SupportAssigned, envelope: Envelope
) -> None:
    await store.support_assigned(tx, event, envelope.time)
