"""Referrals' event handlers: a completed or revised diagnosis becomes referrals, a closed case
ends them. The consumer has opened the transaction, checked the inbox and locked the event's
case (shared.locks), as the API does when it changes a case."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from services.referrals import routing, store
from services.referrals.routing import Pending
from shared import outbox
from shared.consumer import Handlers
from shared.envelope import Envelope
from shared.events import (
    CaseClosed,
    CaseConsentGiven,
    CaseConsentWithdrawn,
    CaseReopened,
    DiagnosisCompleted,
    DiagnosisRevised,
    Event,
    Place,
    Recommendation,
)
from shared.outbox import Origin

handlers = Handlers()


def origin_of(envelope: Envelope) -> Origin:
    return Origin(envelope.region, "referrals")


async def _route_new(
    tx: asyncpg.Connection,
    *,
    diagnosis_id: UUID,
    case_id: UUID,
    round: int,
    place: Place,
    recommendations: list[Recommendation],
) -> list[Event]:
    """Route the recommendations not seen before; a redelivered or late event routes nothing
    twice and never revives a dropped recommendation. A case has one live referral per support
    type: a recommendation of a type it has open or waiting already is that support (diagnosis
    plans it so; this holds for any producer), and is not routed a second time."""
    known = await store.known_recommendations(tx, [r.recommendation_id for r in recommendations])
    # While the family's consent is withdrawn, recommendations are held, not routed.
    withdrawn = await store.is_consent_withdrawn(tx, case_id)
    events: list[Event] = []
    for rec in sorted(recommendations, key=lambda r: r.priority):
        if rec.recommendation_id in known:
            continue
        known.add(rec.recommendation_id)
        live = await store.live_support(tx, case_id, rec.support_type)
        if live is not None:
            await store.merge_recommendation(tx, rec.recommendation_id, case_id, into=live)
            continue
        pending = Pending(
            recommendation_id=rec.recommendation_id,
            diagnosis_id=diagnosis_id,
            case_id=case_id,
            place=place,
            support_type=rec.support_type,
            priority=rec.priority,
            round=round,
        )
        if withdrawn:
            await routing.hold(tx, pending)
        else:
            events += await routing.route(tx, pending)
    return events


@handlers.on(DiagnosisCompleted)
async def on_diagnosis_completed(
    tx: asyncpg.Connection, event: DiagnosisCompleted, envelope: Envelope
) -> None:
    """Route each recommendation of the plan (IPW) to an institution that can give it."""
    if await store.is_round_closed(tx, event.case_id, event.round):
        return  # its round closed before the diagnosis arrived: nothing to plan any more
    await store.lock_routing(tx)
    events = await _route_new(
        tx,
        diagnosis_id=event.diagnosis_id,
        case_id=event.case_id,
        round=event.round,
        place=event.place,
        recommendations=event.recommendations,
    )
    await outbox.add(tx, origin_of(envelope), *events, cause=envelope)


@handlers.on(DiagnosisRevised)
async def on_diagnosis_revised(
    tx: asyncpg.Connection, event: DiagnosisRevised, envelope: Envelope
) -> None:
    """Dropped recommendations cancel their referrals; new ones are routed."""
    if await store.is_round_closed(tx, event.case_id, event.round):
        return
    await store.lock_routing(tx)
    events: list[Event] = []
    freed: set[UUID] = set()
    for recommendation_id in event.removed:
        await store.drop_recommendation(tx, recommendation_id, event.case_id)
        for row in await store.live_referrals_of_recommendation(tx, recommendation_id):
            events += await routing.cancel(tx, row, "recommendation_dropped")
            if row["institution_id"] is not None:
                freed.add(row["institution_id"])
    kept = [r for r in event.recommendations if r.recommendation_id not in set(event.removed)]
    events += await _route_new(
        tx,
        diagnosis_id=event.diagnosis_id,
        case_id=event.case_id,
        round=event.round,
        place=event.place,
        recommendations=kept,
    )
    events += await routing.assign_waiting_for(tx, freed)
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
    """A reopened case takes referrals again, from the diagnosis of its new round (the review
    of its diagnosis, diagnosis.revised.v1, or its first completion)."""
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
