"""The individual support plan (IPW) as routing's trigger: support starts when the family agrees
to its plan. Each plan.agreed.v1 / plan.revised.v1 carries the plan's full set of supports; the
case's referrals follow the latest version: supports it adds are routed, supports it dropped are
cancelled. A version older than one already followed changes nothing, so versions may arrive in
any order and more than once.

Callers hold the case lock (the consumer does) and then the routing lock."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import asyncpg

from services.referrals import routing, store
from services.referrals.domain import Responsible
from services.referrals.routing import Pending
from shared.events import Event, Place, PlanAgreed, PlannedSupport, PlanRevised


@dataclass(frozen=True)
class PlanVersion:
    """One version of a plan, as referrals needs it."""

    plan_id: UUID
    diagnosis_id: UUID
    case_id: UUID
    place: Place
    round: int
    version: int
    supports: list[PlannedSupport]
    responsible: dict[UUID, Responsible]  # by goal

    @classmethod
    def of(cls, event: PlanAgreed | PlanRevised) -> PlanVersion:
        return cls(
            plan_id=event.plan_id,
            diagnosis_id=event.diagnosis_id,
            case_id=event.case_id,
            place=event.place,
            round=event.round,
            version=event.version,
            supports=event.supports,
            responsible={g.goal_id: Responsible(g.responsible_institution_id) for g in event.goals},
        )


async def follow(tx: asyncpg.Connection, plan: PlanVersion) -> list[Event]:
    """Bring the case's referrals in line with this version of its plan (if it is the latest
    seen): cancel what it dropped, route what it holds and no live referral serves yet (held
    instead while the family's consent is withdrawn), never to an institution that declined."""
    if not await store.newer_plan_version(tx, plan.plan_id, plan.case_id, plan.version):
        return []  # an older version, or this one again
    target = {s.recommendation_id: s for s in plan.supports}
    events: list[Event] = []
    freed: set[UUID] = set()
    for row in await store.live_referrals_of_diagnosis(tx, plan.diagnosis_id):
        if row["recommendation_id"] in target:
            continue
        events += await routing.cancel(tx, row, "recommendation_dropped")
        if row["institution_id"] is not None and row["state"] != "unassignable":
            freed.add(row["institution_id"])
    for dropped in await store.recommendations_of_diagnosis(tx, plan.diagnosis_id) - set(target):
        await store.drop_recommendation(tx, dropped, plan.case_id)
    await store.undrop(tx, list(target))

    withdrawn = await store.is_consent_withdrawn(tx, plan.case_id)
    history = await store.recommendation_history(tx, list(target))
    for support in sorted(plan.supports, key=lambda s: (s.priority, str(s.recommendation_id))):
        seen = history.get(support.recommendation_id)
        if seen is not None and seen["live"]:
            continue
        # A case has one live referral per support type: another support of this type open or
        # waiting already is that support (whatever the producer planned).
        live = await store.live_support(tx, plan.case_id, support.support_type)
        if live is not None:
            await store.merge_recommendation(tx, support.recommendation_id, plan.case_id, into=live)
            continue
        pending = Pending(
            recommendation_id=support.recommendation_id,
            diagnosis_id=plan.diagnosis_id,
            case_id=plan.case_id,
            place=plan.place,
            support_type=support.support_type,
            priority=support.priority,
            round=plan.round,
            responsible=plan.responsible.get(support.goal_id),
        )
        if withdrawn:
            if seen is None or not seen["held"]:
                await routing.hold(tx, pending)
            continue
        if seen is None:
            events += await routing.route(tx, pending)
        else:
            declined = await store.declined_institutions(tx, support.recommendation_id)
            events += await routing.route(
                tx, pending, attempt=seen["attempts"] + 1, excluded=declined
            )
    return events + await routing.assign_waiting_for(tx, freed)
