"""Diagnosis's event handlers; each runs inside the consumer's transaction after the inbox check."""

from __future__ import annotations

import asyncpg

from services.diagnosis import store
from shared.consumer import Handlers
from shared.envelope import Envelope
from shared.events import CaseClosed, CaseOpened

handlers = Handlers()


@handlers.on(CaseOpened)
async def on_case_opened(tx: asyncpg.Connection, event: CaseOpened, _: Envelope) -> None:
    # Without consent to share data within the PZK, the team cannot diagnose the case.
    if event.consent_to_share:
        await store.open_diagnosis(tx, event.case_id, event.place)


@handlers.on(CaseClosed)
async def on_case_closed(tx: asyncpg.Connection, event: CaseClosed, _: Envelope) -> None:
    await store.cancel_for_case(tx, event.case_id)
