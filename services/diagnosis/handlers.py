"""Diagnosis's event handlers; each runs inside the consumer's transaction after the inbox check,
holding the lock of its event's case (shared.locks), as the API does when it changes a case.

Events may arrive out of order: a close before its open, an older team list after a newer one.
The case's rounds (in intake's events) settle closings and reopenings in any order.
"""

from __future__ import annotations

import asyncpg

from services.diagnosis import store
from shared.consumer import Handlers
from shared.envelope import Envelope
from shared.events import (
    CaseAnonymised,
    CaseClosed,
    CaseConsentGiven,
    CaseConsentWithdrawn,
    CaseOpened,
    CaseReopened,
    CaseTransferred,
    InstitutionRegistered,
    InstitutionUpdated,
    PartnershipChanged,
)

handlers = Handlers()


@handlers.on(CaseOpened)
async def on_case_opened(tx: asyncpg.Connection, event: CaseOpened, env: Envelope) -> None:
    # Without consent to share data within the PZK, the team cannot diagnose the case.
    if event.consent_to_share:
        await store.settle_consent(
            tx, event.case_id, True, event.opened_on, env.sequence, event.consent_scope
        )
        await store.open_diagnosis(tx, event.case_id, event.place, round=1)
        await store.follow_place(tx, event.case_id, event.place, env.sequence)


@handlers.on(CaseConsentGiven)
async def on_case_consent_given(
    tx: asyncpg.Connection, event: CaseConsentGiven, env: Envelope
) -> None:
    # Consent recorded after opening (or after a reopening, or again after a withdrawal): the
    # team may now diagnose. The open is idempotent; for a round known closed the diagnosis is
    # there but cancelled, whichever of the case's events came first.
    await store.settle_consent(tx, event.case_id, True, event.given_on, env.sequence, event.scope)
    await store.open_diagnosis(tx, event.case_id, event.place, round=event.round)
    await store.follow_place(tx, event.case_id, event.place, env.sequence)


@handlers.on(CaseTransferred)
async def on_case_transferred(
    tx: asyncpg.Connection, event: CaseTransferred, env: Envelope
) -> None:
    # The family moved and the receiving gmina's OPS took the case: its diagnosis and plan go
    # with it, to that gmina's PZK, coordinator and caseworkers (the sending gmina's no longer
    # see them). Recorded even before the case has a diagnosis here, which then opens there.
    await store.follow_place(tx, event.case_id, event.place, env.sequence)


@handlers.on(CaseConsentWithdrawn)
async def on_case_consent_withdrawn(
    tx: asyncpg.Connection, event: CaseConsentWithdrawn, env: Envelope
) -> None:
    # The team adds nothing more (assessments, completion, revisions) unless consent is given
    # again later; what it recorded stays, as the case's history.
    await store.settle_consent(tx, event.case_id, False, event.withdrawn_on, env.sequence)


@handlers.on(CaseAnonymised)
async def on_case_anonymised(tx: asyncpg.Connection, event: CaseAnonymised, _: Envelope) -> None:
    # Intake's retention rule reached the case: the notes and the plan's goals in words go too.
    await store.anonymise_case(
        tx, event.case_id, f"case anonymised by intake's retention on {event.anonymised_on}"
    )


@handlers.on(CaseClosed)
async def on_case_closed(tx: asyncpg.Connection, event: CaseClosed, env: Envelope) -> None:
    await store.close_round(tx, event.case_id, event.round, env.sequence)


@handlers.on(CaseReopened)
async def on_case_reopened(tx: asyncpg.Connection, event: CaseReopened, env: Envelope) -> None:
    # A reopening starts the case's next round: its diagnosis is open again for review.
    await store.reopen_round(tx, event.case_id, event.round, env.sequence)


@handlers.on(PartnershipChanged)
async def on_partnership_changed(
    tx: asyncpg.Connection, event: PartnershipChanged, env: Envelope
) -> None:
    await store.save_partnership(tx, event, env.time)


@handlers.on(InstitutionRegistered)
async def on_institution_registered(
    tx: asyncpg.Connection, event: InstitutionRegistered, env: Envelope
) -> None:
    await store.save_institution(tx, event, env.time)


@handlers.on(InstitutionUpdated)
async def on_institution_updated(
    tx: asyncpg.Connection, event: InstitutionUpdated, env: Envelope
) -> None:
    await store.save_institution(tx, event, env.time)
