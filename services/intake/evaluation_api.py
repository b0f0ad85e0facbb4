"""Routes of the family's side of the evaluation and the group activities: the caseworker's
follow-up 3 and 6 months after closing (`case.follow_up_recorded.v1`), and which members of a
case take part in a group activity (`activity.participation_changed.v1`: counts only)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.intake import casefile_store as files
from services.intake import evaluation, store
from services.intake import evaluation_store as evals
from shared import outbox
from shared.auth import Principal, Role, requires
from shared.codes import FamilyRole
from shared.errors import NotFound
from shared.idempotency import IdempotencyKey, answer, fingerprint, replay
from shared.isodate import IsoDate
from shared.runtime import ServiceContext, context

router = APIRouter(prefix="/api/v1", tags=["evaluation and group activities"])
Ctx = Annotated[ServiceContext, Depends(context)]
Staff = requires(Role.CASEWORKER, Role.COORDINATOR)


class FollowUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    months: int = Field(description="3 or 6: months after the case's closing")
    recorded_on: IsoDate | None = Field(default=None, description="default: today")
    sustained: bool = Field(description="the family's situation is sustained")
    roles: list[FamilyRole] = Field(
        default_factory=list, max_length=len(FamilyRole), description="roles fulfilled again"
    )


class FollowUpOut(BaseModel):
    case_id: UUID
    round: int
    months: int
    closed_on: date
    recorded_on: date
    sustained: bool
    roles: list[FamilyRole]


class ParticipantsIn(BaseModel):
    """The case's members taking part in the activity from now on (the whole set: an empty
    list takes the case's members out of it)."""

    model_config = ConfigDict(extra="forbid")
    case_id: UUID
    person_ids: list[UUID] = Field(max_length=30)


class CaseParticipantsOut(BaseModel):
    activity_id: UUID
    case_id: UUID
    participants: int = Field(description="the case's members in the activity")
    person_ids: list[UUID]


class ActivityParticipantsOut(BaseModel):
    activity_id: UUID
    participants: int = Field(description="persons taking part, from every case")
    cases: list[dict[str, Any]] = Field(description="case_id and person_ids of each case")


@router.post("/cases/{case_id}/follow-ups", status_code=201, response_model=FollowUpOut)
async def record_follow_up(
    case_id: UUID,
    body: FollowUpIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = Staff,
) -> JSONResponse:
    """The follow-up of the family 3 or 6 months after its case closed: is the situation
    sustained, which roles does the family fulfil again. Recording it again corrects it."""
    today = date.today()
    request_hash = fingerprint(f"POST /cases/{case_id}/follow-ups", body)
    async with ctx.pool.acquire() as conn, conn.transaction():
        case = await evals.closed_case(conn, case_id, lock=True)
        if case is None:
            raise NotFound("case_not_found", f"nie ma sprawy {case_id}")
        principal.require_gmina(case.place.gmina)
        if first := await replay(conn, principal, idempotency_key, request_hash):
            return first
        event = evaluation.follow_up(
            case, body.months, body.recorded_on or today, body.sustained, body.roles, today
        )
        await evals.save_follow_up(conn, event, principal.subject)
        await outbox.add(conn, ctx.origin, event)
        await store.audit(conn, principal, case_id, case.place.gmina, "follow_up_recorded",
                          f"kontrola po {event.months} miesiącach")  # fmt: skip
        out = FollowUpOut(**event.model_dump(include=set(FollowUpOut.model_fields)))
        return await answer(conn, principal, idempotency_key, request_hash, 201, out)


@router.get("/cases/{case_id}/follow-ups", response_model=list[FollowUpOut])
async def read_follow_ups(case_id: UUID, ctx: Ctx, principal: Principal = Staff) -> Any:
    """The case's follow-ups after closing, every round: codes and dates only."""
    async with ctx.pool.acquire() as conn:
        case = await evals.closed_case(conn, case_id, lock=False)
        if case is None:
            raise NotFound("case_not_found", f"nie ma sprawy {case_id}")
        principal.require_gmina(case.place.gmina)
        return await evals.follow_ups_of(conn, case_id)


@router.post("/activities/{activity_id}/participants", response_model=CaseParticipantsOut)
async def set_participants(
    activity_id: UUID,
    body: ParticipantsIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = Staff,
) -> JSONResponse:
    """Which members of a case take part in a group activity of its gmina's PZK. Known here
    only: the event others get says how many, never who."""
    today = date.today()
    request_hash = fingerprint(f"POST /activities/{activity_id}/participants", body)
    async with ctx.pool.acquire() as conn, conn.transaction():
        household = await files.load_household(conn, body.case_id, lock=True)
        if household is None:
            raise NotFound("case_not_found", f"nie ma sprawy {body.case_id}", field="case_id")
        principal.require_gmina(household.gmina.code)
        if first := await replay(conn, principal, idempotency_key, request_hash):
            return first
        chosen = set(body.person_ids)
        activity = evaluation.check_participants(
            await evals.activity(conn, activity_id, lock=True),
            activity_id,
            household.gmina.code,
            household.status,
            {m.person_id for m in household.present},
            chosen,
        )
        before = await evals.participants_of_case(conn, body.case_id, activity_id)
        if before != chosen:
            await evals.set_participants(
                conn, body.case_id, activity_id, chosen, today, principal.subject
            )
            in_type = await evals.in_type(conn, body.case_id, activity.activity_type)
            event = evaluation.participation_changed(
                body.case_id, household.gmina.place, activity, chosen, in_type, today
            )
            await outbox.add(conn, ctx.origin, event)
            await store.audit(conn, principal, body.case_id, household.gmina.code,
                              "activity_participants", f"zajęcia {activity_id}")  # fmt: skip
        out = CaseParticipantsOut(
            activity_id=activity_id,
            case_id=body.case_id,
            participants=len(chosen),
            person_ids=sorted(chosen, key=str),
        )
        return await answer(conn, principal, idempotency_key, request_hash, 200, out)


@router.get("/activities/{activity_id}/participants", response_model=ActivityParticipantsOut)
async def read_participants(activity_id: UUID, ctx: Ctx, principal: Principal = Staff) -> Any:
    """Who takes part in the activity, by case and person id (ids only; the names are in each
    case's file)."""
    async with ctx.pool.acquire() as conn:
        activity = await evals.activity(conn, activity_id)
        if activity is None:
            raise NotFound("activity_not_found", f"nie ma zajęć {activity_id}")
        principal.require_gmina(activity.gmina)
        cases = await evals.participants(conn, activity_id)
    return {
        "activity_id": activity_id,
        "participants": sum(len(c["person_ids"]) for c in cases),
        "cases": cases,
    }
