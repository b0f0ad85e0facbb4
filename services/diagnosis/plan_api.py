"""Diagnosis's HTTP routes of the individual support plan (IPW): agree it with the family, revise
it, review its goals, read it with its history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.diagnosis import plan_store
from services.diagnosis.domain import Diagnosis
from services.diagnosis.plan import Goal, GoalDraft, SupportPlan, agree
from services.diagnosis.scope import load_in_scope
from shared import outbox
from shared.auth import Principal, Role, requires
from shared.codes import GoalResult, NeedArea, SupportType
from shared.errors import Conflict, NotFound
from shared.idempotency import IdempotencyKey, answer, fingerprint, replay
from shared.isodate import IsoDate
from shared.runtime import ServiceContext, context
from shared.text import MultiLine

router = APIRouter(prefix="/api/v1", tags=["plans"])
Ctx = Annotated[ServiceContext, Depends(context)]
READERS = (Role.CASEWORKER, Role.TEAM_MEMBER, Role.COORDINATOR)


# --- what the API takes --------------------------------------------------------------------


class GoalIn(BaseModel):
    """Cel planu: for a member of the household (intake's person id) or for the household."""

    model_config = ConfigDict(extra="forbid")
    goal_id: UUID | None = Field(
        default=None, description="in a revision: the goal of the plan this one continues"
    )
    area: NeedArea = Field(description="the need the goal answers, one found in the diagnosis")
    member_id: UUID | None = Field(default=None, description="null: the household as a whole")
    description: MultiLine = Field(
        default="", max_length=2000, description="the goal in words; stays in this service"
    )
    supports: list[UUID] = Field(
        default_factory=list,
        max_length=30,
        description="recommendations of the diagnosis that serve this goal; referrals routes them",
    )
    responsible_institution_id: UUID | None = Field(
        default=None, description="the PZK institution responsible; null: the OPS itself"
    )
    due_on: IsoDate
    review_on: IsoDate

    def draft(self) -> GoalDraft:
        return GoalDraft(
            goal_id=self.goal_id,
            area=self.area,
            member_id=self.member_id,
            description=self.description,
            supports=tuple(self.supports),
            responsible_institution_id=self.responsible_institution_id,
            due_on=self.due_on,
            review_on=self.review_on,
        )


class PlanIn(BaseModel):
    """The plan (IPW) as the family agreed to it."""

    model_config = ConfigDict(extra="forbid")
    agreed_on: IsoDate = Field(description="the day the family agreed to the plan")
    social_contract_on: IsoDate | None = Field(
        default=None, description="the day a social contract (kontrakt socjalny) was signed"
    )
    goals: list[GoalIn] = Field(min_length=1, max_length=30)


class PlanRevisionIn(BaseModel):
    """The plan after a revision: every goal it keeps (with its goal_id) and any new one."""

    model_config = ConfigDict(extra="forbid")
    revised_on: IsoDate
    social_contract_on: IsoDate | None = None
    goals: list[GoalIn] = Field(min_length=1, max_length=30)


class GoalReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reviewed_on: IsoDate
    result: GoalResult
    note: MultiLine = Field(
        default="", max_length=2000, description="how the goal stands, in words; stays here"
    )


# --- what it answers -----------------------------------------------------------------------


class PlannedSupportOut(BaseModel):
    recommendation_id: UUID
    support_type: SupportType
    need_area: NeedArea
    priority: int


class GoalOut(BaseModel):
    goal_id: UUID
    area: NeedArea
    member_id: UUID | None
    description: str
    responsible_institution_id: UUID | None = Field(description="null: the OPS itself")
    due_on: date
    review_on: date
    supports: list[PlannedSupportOut]
    last_review: GoalResult | None = None


class PlanVersionOut(BaseModel):
    version: int
    on_day: date
    social_contract_on: date | None
    author: str
    goals: list[GoalOut]


class GoalReviewOut(BaseModel):
    goal_id: UUID
    reviewed_on: date
    result: GoalResult
    note: str = ""
    author: str
    at: datetime


class PlanOut(BaseModel):
    plan_id: UUID
    diagnosis_id: UUID
    case_id: UUID
    gmina: str
    version: int
    agreed_on: date
    social_contract_on: date | None
    goals: list[GoalOut]
    history: list[PlanVersionOut] = Field(description="every version, the first agreed one first")
    reviews: list[GoalReviewOut]


def _goal_out(goal: Goal, diagnosis: Diagnosis, last: GoalResult | None = None) -> GoalOut:
    known = {r.recommendation_id: r for r in diagnosis.all_recommendations()}
    return GoalOut(
        goal_id=goal.goal_id,
        area=goal.area,
        member_id=goal.member_id,
        description=goal.description,
        responsible_institution_id=goal.responsible_institution_id,
        due_on=goal.due_on,
        review_on=goal.review_on,
        supports=[
            PlannedSupportOut(**known[rid].model_dump()) for rid in goal.supports if rid in known
        ],
        last_review=last,
    )


async def plan_out(conn: asyncpg.Connection, diagnosis: Diagnosis, plan: SupportPlan) -> PlanOut:
    return PlanOut(
        plan_id=plan.plan_id,
        diagnosis_id=diagnosis.diagnosis_id,
        case_id=diagnosis.case_id,
        gmina=diagnosis.place.gmina,
        version=plan.version,
        agreed_on=plan.agreed_on,
        social_contract_on=plan.social_contract_on,
        goals=[_goal_out(g, diagnosis, plan.reviews.get(g.goal_id)) for g in plan.goals],
        history=[
            PlanVersionOut(**{**v, "goals": [_goal_out(g, diagnosis) for g in v["goals"]]})
            for v in await plan_store.history(conn, plan.plan_id)
        ],
        reviews=[GoalReviewOut(**r) for r in await plan_store.reviews(conn, plan.plan_id)],
    )


# --- routes --------------------------------------------------------------------------------


async def _plan_or_404(conn: asyncpg.Connection, diagnosis_id: UUID, *, lock: bool) -> SupportPlan:
    plan = await plan_store.load(conn, diagnosis_id, lock=lock)
    if plan is None:
        raise NotFound("plan_not_found", f"diagnosis {diagnosis_id} has no agreed plan")
    return plan


@router.get("/diagnoses/{diagnosis_id}/plan", response_model=PlanOut)
async def read_plan(
    diagnosis_id: UUID, ctx: Ctx, principal: Principal = requires(*READERS)
) -> PlanOut:
    """The plan (IPW) as it stands, every earlier version and every goal's reviews: for the
    gmina's caseworkers and coordinator and the members of its PZK."""
    async with ctx.pool.acquire() as conn:
        diagnosis, _ = await load_in_scope(conn, diagnosis_id, principal, lock=False)
        plan = await _plan_or_404(conn, diagnosis_id, lock=False)
        return await plan_out(conn, diagnosis, plan)


@router.post("/diagnoses/{diagnosis_id}/plan", status_code=201, response_model=PlanOut)
async def agree_plan(
    diagnosis_id: UUID,
    body: PlanIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(Role.COORDINATOR),
) -> JSONResponse:
    """Record the plan the family agreed to → plan.agreed.v1: support starts, referrals routes
    the plan's supports. Only on a completed diagnosis, once."""
    request_hash = fingerprint(f"POST /diagnoses/{diagnosis_id}/plan", body)
    async with ctx.pool.acquire() as conn, conn.transaction():
        if first := await replay(conn, principal, idempotency_key, request_hash):
            return first
        diagnosis, partnership = await load_in_scope(conn, diagnosis_id, principal, lock=True)
        principal.require_gmina(diagnosis.place.gmina)
        if await plan_store.load(conn, diagnosis_id) is not None:
            raise Conflict("plan_exists", "the plan is agreed already; revise it", field="plan")
        plan, event = agree(
            diagnosis,
            [g.draft() for g in body.goals],
            agreed_on=body.agreed_on,
            social_contract_on=body.social_contract_on,
            partnership=partnership,
            today=date.today(),
        )
        await plan_store.save_agreed(conn, plan, principal.subject)
        await outbox.add(conn, ctx.origin, event)
        out = await plan_out(conn, diagnosis, plan)
        return await answer(conn, principal, idempotency_key, request_hash, 201, out)


@router.post("/diagnoses/{diagnosis_id}/plan/revisions", response_model=PlanOut)
async def revise_plan(
    diagnosis_id: UUID,
    body: PlanRevisionIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(Role.COORDINATOR),
) -> JSONResponse:
    """A new version of the plan → plan.revised.v1: added supports are routed, dropped ones
    cancelled; the earlier versions stay in its history."""
    request_hash = fingerprint(f"POST /diagnoses/{diagnosis_id}/plan/revisions", body)
    async with ctx.pool.acquire() as conn, conn.transaction():
        if first := await replay(conn, principal, idempotency_key, request_hash):
            return first
        diagnosis, partnership = await load_in_scope(conn, diagnosis_id, principal, lock=True)
        principal.require_gmina(diagnosis.place.gmina)
        plan = await _plan_or_404(conn, diagnosis_id, lock=True)
        after, event = plan.revise(
            diagnosis,
            [g.draft() for g in body.goals],
            revised_on=body.revised_on,
            social_contract_on=body.social_contract_on,
            partnership=partnership,
            today=date.today(),
        )
        await plan_store.save_revised(conn, after, body.revised_on, principal.subject)
        await outbox.add(conn, ctx.origin, event)
        out = await plan_out(conn, diagnosis, after)
        return await answer(conn, principal, idempotency_key, request_hash, 200, out)


@router.post(
    "/diagnoses/{diagnosis_id}/plan/goals/{goal_id}/reviews",
    status_code=201,
    response_model=GoalReviewOut,
)
async def review_goal(
    diagnosis_id: UUID,
    goal_id: UUID,
    body: GoalReviewIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(Role.COORDINATOR),
) -> JSONResponse:
    """A goal's review: met, not met or still in progress → plan.goal_reviewed.v1."""
    request_hash = fingerprint(f"POST /diagnoses/{diagnosis_id}/plan/goals/{goal_id}/reviews", body)
    async with ctx.pool.acquire() as conn, conn.transaction():
        if first := await replay(conn, principal, idempotency_key, request_hash):
            return first
        diagnosis, _ = await load_in_scope(conn, diagnosis_id, principal, lock=True)
        principal.require_gmina(diagnosis.place.gmina)
        plan = await _plan_or_404(conn, diagnosis_id, lock=True)
        event = plan.review(diagnosis, goal_id, body.result, body.reviewed_on, date.today())
        await plan_store.save_review(
            conn,
            plan.plan_id,
            goal_id,
            body.result,
            body.reviewed_on,
            principal.subject,
            body.note,
        )
        await outbox.add(conn, ctx.origin, event)
        out: dict[str, Any] = {
            "goal_id": goal_id,
            "reviewed_on": body.reviewed_on,
            "result": body.result,
            "note": body.note,
            "author": principal.subject,
            "at": datetime.now().astimezone(),
        }
        return await answer(
            conn, principal, idempotency_key, request_hash, 201, GoalReviewOut(**out)
        )
