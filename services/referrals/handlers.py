"""Referrals' event handlers: the plan (IPW) a family agreed to becomes referrals, its revisions
add and cancel them, a closed case or a withdrawn consent ends them; the PZK's members come from
the partnership service. The consumer has opened the
transaction, checked the inbox and locked the event's case (shared.locks), as the API does when
it changes a case."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from services.referrals import plans, routing, store, transfers
from shared import outbox
from shared.consumer import Handlers
from shared.envelope import Envelope
from shared.events import (
    CaseClosed,
    CaseConsentGiven,
    CaseConsentWithdrawn,
    CaseReopened,
    CaseTransferred,
    Event,
    PartnershipChanged,
    PlanAgreed,
    PlanRevised,
)
from shared.outbox import Origin

handlers = Handlers()


def origin_of(envelope: Envelope) -> Origin:
    return Origin(envelope.region, "referrals")


@handlers.on(PlanAgreed)
async def on_plan_agreed(tx: asyncpg.Connection, event: PlanAgreed, envelope: Envelope) -> None:
    """Support starts: each support of the plan (IPW) the family agreed to goes to an
    institution that can give it, the one its goal names responsible first."""
    await _follow_plan(tx, event, envelope)


@handlers.on(PlanRevised)
async def on_plan_revised(tx: asyncpg.Connection, event: PlanRevised, envelope: Envelope) -> None:
    """Supports the revision added are routed, those it dropped cancelled."""
    await _follow_plan(tx, event, envelope)


async def _follow_plan(
    tx: asyncpg.Connection, event: PlanAgreed | PlanRevised, envelope: Envelope
) -> None:
    if await store.is_round_closed(tx, event.case_id, event.round):
        return  # its round closed before the plan arrived: nothing to start any more
    if (moved_to := await store.case_place(tx, event.case_id)) is not None:
        # the case was transferred: its supports are routed where it is now, whichever of the
        # transfer and the plan (agreed where it was) arrived first
        event = event.model_copy(update={"place": moved_to})
    await store.lock_routing(tx)
    events = await plans.follow(tx, plans.PlanVersion.of(event))
    await outbox.add(tx, origin_of(envelope), *events, cause=envelope)


@handlers.on(CaseClosed)
async def on_case_closed(tx: asyncpg.Connection, event: CaseClosed, envelope: Envelope) -> None:
    """The cooperation ended: open referrals of the round it closes (and earlier ones) are
    cancelled and waiting recommendations stop waiting; the places they held go to other
    families. A closing arriving after a reopening and the next round's referrals leaves
    those alone: they belong to a later round."""
    await store.record_case_event(
        tx, event.case_id, closed=True, round=event.round, sequence=envelope.sequence
    )
    await store.lock_routing(tx)
    events: list[Event] = []
    freed: set[UUID] = set()
    for row in await store.live_referrals_of_case(tx, event.case_id, up_to_round=event.round):
        events += await routing.cancel(tx, row, "case_closed")
        if row["institution_id"] is not None:
            freed.add(row["institution_id"])
    events += await routing.assign_waiting_for(tx, freed)
    await outbox.add(tx, origin_of(envelope), *events, cause=envelope)


@handlers.on(CaseReopened)
async def on_case_reopened(tx: asyncpg.Connection, event: CaseReopened, envelope: Envelope) -> None:
    """A reopened case takes referrals again, from the plan of its new round (the plan revised
    once the review of its diagnosis is concluded, or its first agreement)."""
    await store.record_case_event(
        tx, event.case_id, closed=False, round=event.round, sequence=envelope.sequence
    )


@handlers.on(CaseConsentWithdrawn)
async def on_case_consent_withdrawn(
    tx: asyncpg.Connection, event: CaseConsentWithdrawn, envelope: Envelope
) -> None:
    """Sharing within the PZK ends (RODO art. 7(3)): referrals not yet accepted are cancelled
    with that reason; accepted supports go on as the institution's own relation."""
    if not await store.settle_consent(tx, event.case_id, False, envelope.sequence):
        return  # already withdrawn, or consent given again later in intake arrived first
    await store.lock_routing(tx)
    events = await routing.end_sharing(tx, event.case_id)
    await outbox.add(tx, origin_of(envelope), *events, cause=envelope)


@handlers.on(CaseConsentGiven)
async def on_case_consent_given(
    tx: asyncpg.Connection, event: CaseConsentGiven, envelope: Envelope
) -> None:
    """Consent given again after a withdrawal reopens sharing: what the withdrawal cancelled
    or held is routed anew (a first consent changes nothing here)."""
    if await store.settle_consent(tx, event.case_id, True, envelope.sequence) is not False:
        return  # sharing was in effect already, or a later withdrawal arrived first
    if await store.is_round_closed(tx, event.case_id, event.round):
        return
    await store.lock_routing(tx)
    events = await routing.resume_sharing(tx, event.case_id)
    await outbox.add(tx, origin_of(envelope), *events, cause=envelope)


@handlers.on(CaseTransferred)
async def on_case_transferred(
    tx: asyncpg.Connection, event: CaseTransferred, envelope: Envelope
) -> None:
    """The family moved and the receiving gmina's OPS took the case: accepted supports go on,
    those not accepted yet are routed anew there (services/referrals/transfers.py)."""
    await store.lock_routing(tx)
    events = await transfers.follow(tx, event, envelope.sequence)
    await outbox.add(tx, origin_of(envelope), *events, cause=envelope)


@handlers.on(PartnershipChanged)
async def on_partnership_changed(
    tx: asyncpg.Connection, event: PartnershipChanged, envelope: Envelope
) -> None:
    """The gmina's PZK members as the partnership service says (routing prefers them). An
    announcement of referrals' own, from before the partnership service, is history."""
    if envelope.source.rsplit("/", 1)[-1] == "referrals":
        return
    await store.save_partnership(tx, event.gmina, event.institutions, envelope.time)
