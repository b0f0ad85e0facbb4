"""Routing inside a transaction: send a recommendation to the best institution with room, re-route
after a decline, cancel, and hand freed places to waiting recommendations. Every function returns
the events it caused; the caller adds them to the outbox in the same transaction.

Callers hold the case lock of the referral they act on and then the routing lock (store)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from services.referrals import domain, institution_links, store
from services.referrals.domain import Action, ReferralState
from services.referrals.settings import referral_settings
from shared.codes import ModelVariant, SupportType
from shared.events import Event, Place, SupportAssigned, SupportCancelled, SupportUnassignable

CONSENT_WITHDRAWN = "consent_withdrawn"


@dataclass(frozen=True)
class Pending:
    """A recommendation of a plan (IPW) that needs an institution."""

    recommendation_id: UUID
    diagnosis_id: UUID
    case_id: UUID
    place: Place
    support_type: SupportType
    priority: int
    round: int = 1  # the case's round whose diagnosis planned it
    responsible: domain.Responsible | None = None  # from the plan (IPW), preferred when it can


def place_of(row: dict[str, Any]) -> Place:
    return Place(
        gmina=row["gmina"].strip(),
        powiat=row["powiat"].strip(),
        region=row["region"].strip(),
        variant=ModelVariant(row["variant"]),
    )


def pending_of(row: dict[str, Any]) -> Pending:
    return Pending(
        recommendation_id=row["recommendation_id"],
        diagnosis_id=row["diagnosis_id"],
        case_id=row["case_id"],
        place=place_of(row),
        support_type=SupportType(row["support_type"]),
        priority=row["priority"],
        round=row["round"],
    )


def _accept_by() -> datetime:
    return domain.accept_by(datetime.now(UTC), referral_settings().acceptance_window)


def _referral_of(rec: Pending, referral_id: UUID, attempt: int) -> dict[str, Any]:
    """What a new referral row of the recommendation holds, whatever its state."""
    return dict(
        referral_id=referral_id,
        recommendation_id=rec.recommendation_id,
        diagnosis_id=rec.diagnosis_id,
        case_id=rec.case_id,
        round=rec.round,
        place=rec.place,
        support_type=rec.support_type,
        priority=rec.priority,
        attempt=attempt,
    )


async def route(
    tx: asyncpg.Connection,
    rec: Pending,
    *,
    attempt: int = 1,
    excluded: set[UUID] | None = None,
) -> list[Event]:
    """A new referral for the recommendation: assigned to the best institution not tried yet
    (or not among `excluded`, when given), or unassignable (waiting) when none has room."""
    # A first attempt is a recommendation never routed before: nobody has declined it yet.
    tried = (
        excluded
        if excluded is not None
        else await store.tried_institutions(tx, rec.recommendation_id)
        if attempt > 1
        else set()
    )
    chosen = domain.choose_institution(
        await store.candidates(tx, rec.support_type, rec.place),
        excluded=tried,
        support_type=rec.support_type,
        responsible=rec.responsible,
    )
    referral_id = uuid4()
    common = _referral_of(rec, referral_id, attempt)
    if chosen is None:
        await store.save_referral(
            tx, **common, institution_id=None, state=ReferralState.UNASSIGNABLE, accept_by=None
        )
        return [
            SupportUnassignable(
                recommendation_id=rec.recommendation_id,
                case_id=rec.case_id,
                place=rec.place,
                support_type=rec.support_type,
                attempts=attempt - 1,
            )
        ]
    due = _accept_by()
    await store.save_referral(
        tx,
        **common,
        institution_id=chosen.institution_id,
        state=ReferralState.ASSIGNED,
        accept_by=due,
    )
    await institution_links.offer(tx, referral_id, rec.case_id, chosen.institution_id, due)
    return [
        SupportAssigned(
            referral_id=referral_id,
            recommendation_id=rec.recommendation_id,
            case_id=rec.case_id,
            place=rec.place,
            support_type=rec.support_type,
            institution_id=chosen.institution_id,
            sector=chosen.sector,
            attempt=attempt,
            accept_by=due,
        )
    ]


async def reroute(tx: asyncpg.Connection, ended: dict[str, Any]) -> list[Event]:
    """After a decline or a deactivation: the next attempt for the same recommendation."""
    if await store.is_round_closed(tx, ended["case_id"], ended["round"]):
        return []
    if await store.is_consent_withdrawn(tx, ended["case_id"]):
        await hold(tx, pending_of(ended), attempt=ended["attempt"] + 1)
        return []
    return await route(tx, pending_of(ended), attempt=ended["attempt"] + 1)


async def hold(tx: asyncpg.Connection, rec: Pending, *, attempt: int = 1) -> None:
    """A recommendation of a case whose family withdrew its consent: recorded as a referral
    cancelled for that reason, reaching no institution (so no event), routed when consent is
    given again."""
    referral_id = uuid4()
    await store.save_referral(
        tx,
        **_referral_of(rec, referral_id, attempt),
        institution_id=None,
        state=ReferralState.UNASSIGNABLE,
        accept_by=None,
    )
    state = domain.next_state(ReferralState.UNASSIGNABLE, Action.CANCEL)
    await store.close(tx, referral_id, state, cancel_reason=CONSENT_WITHDRAWN)


async def end_sharing(tx: asyncpg.Connection, case_id: UUID) -> list[Event]:
    """The family withdrew its consent: referrals not yet accepted are cancelled (an accepted
    support goes on as the institution's own relation with the family); the places freed go
    to other families."""
    events: list[Event] = []
    freed: set[UUID] = set()
    for row in await store.unaccepted_referrals_of_case(tx, case_id):
        events += await cancel(tx, row, CONSENT_WITHDRAWN)
        if row["institution_id"] is not None and row["state"] == ReferralState.ASSIGNED:
            freed.add(row["institution_id"])
    return events + await assign_waiting_for(tx, freed)


async def resume_sharing(tx: asyncpg.Connection, case_id: UUID) -> list[Event]:
    """Consent given again: what the withdrawal cancelled or held is routed anew, never to an
    institution that declined it."""
    events: list[Event] = []
    for row in await store.held_for_consent(tx, case_id):
        declined = await store.declined_institutions(tx, row["recommendation_id"])
        events += await route(tx, pending_of(row), attempt=row["attempt"], excluded=declined)
    return events


async def cancel(tx: asyncpg.Connection, row: dict[str, Any], reason: str) -> list[Event]:
    """Cancel an open or waiting referral; only one that reached an institution is announced."""
    state = domain.next_state(ReferralState(row["state"]), Action.CANCEL)
    await store.close(tx, row["referral_id"], state, cancel_reason=reason)
    if row["institution_id"] is None or row["state"] == ReferralState.UNASSIGNABLE:
        return []
    return [
        SupportCancelled(
            referral_id=row["referral_id"],
            case_id=row["case_id"],
            place=place_of(row),
            support_type=SupportType(row["support_type"]),
            institution_id=row["institution_id"],
            reason=reason,
        )
    ]


async def assign_waiting(
    tx: asyncpg.Connection,
    *,
    support_types: list[str] | None = None,
    gminas: list[str] | None = None,
    powiats: list[str] | None = None,
) -> list[Event]:
    """Give places that are free now to waiting recommendations, most urgent first.

    A case whose lock another transaction holds is skipped rather than waited for (waiting here,
    under the routing lock, could deadlock); the deadline watch picks it up on its next round.
    """
    events: list[Event] = []
    for row in await store.waiting_for(
        tx, support_types=support_types, gminas=gminas, powiats=powiats
    ):
        if not await store.try_lock_case(tx, row["case_id"]):
            continue
        current = await store.get_referral(tx, row["referral_id"], for_update=True)
        if current is None or current["state"] != ReferralState.UNASSIGNABLE:
            continue
        rec = pending_of(current)
        tried = await store.tried_institutions(tx, rec.recommendation_id)
        chosen = domain.choose_institution(
            await store.candidates(tx, rec.support_type, rec.place),
            excluded=tried,
            support_type=rec.support_type,
        )
        if chosen is None:
            continue
        state = domain.next_state(ReferralState.UNASSIGNABLE, Action.ASSIGN)
        due = _accept_by()
        await store.assign(tx, current["referral_id"], state, chosen.institution_id, due)
        await institution_links.offer(
            tx, current["referral_id"], rec.case_id, chosen.institution_id, due
        )
        events.append(
            SupportAssigned(
                referral_id=current["referral_id"],
                recommendation_id=rec.recommendation_id,
                case_id=rec.case_id,
                place=rec.place,
                support_type=rec.support_type,
                institution_id=chosen.institution_id,
                sector=chosen.sector,
                attempt=current["attempt"],
                accept_by=due,
            )
        )
    return events


async def assign_waiting_for(tx: asyncpg.Connection, institution_ids: set[UUID]) -> list[Event]:
    """Places freed at these institutions go to the waiting recommendations they could take."""
    events: list[Event] = []
    for institution_id in sorted(institution_ids, key=str):
        inst = await store.get_institution(tx, institution_id)
        if inst is None or not inst["active"]:
            continue
        events += await assign_waiting(
            tx,
            support_types=list(inst["support_types"]),
            gminas=list(inst["gminas"]),
            powiats=list(inst["powiats"]),
        )
    return events
