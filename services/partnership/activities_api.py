"""Routes of the PZK's group activities: the gmina's coordinator registers an activity (a club,
a workshop cycle, training, coaching) and records its sessions; the gmina's staff read them.
Events carry ids, dates, codes and minutes (activity.registered.v1, activity.session_held.v1);
the title stays here. Participants are linked in intake (case members), not here."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.partnership import activities
from services.partnership import group_store as groups
from shared import outbox
from shared.auth import Principal, Role, requires
from shared.codes import ActivityType
from shared.errors import NotFound
from shared.idempotency import IdempotencyKey, answer, fingerprint, replay
from shared.isodate import IsoDate
from shared.runtime import ServiceContext, context
from shared.teryt import terc
from shared.text import SingleLine

router = APIRouter(prefix="/api/v1", tags=["group activities"])
Ctx = Annotated[ServiceContext, Depends(context)]
Coordinator = requires(Role.COORDINATOR)
Readers = requires(Role.COORDINATOR, Role.CASEWORKER, Role.TEAM_MEMBER)


class ActivityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gmina: str = Field(pattern=r"^\d{7}$", description="the gmina whose PZK runs it")
    activity_type: ActivityType
    title: SingleLine = Field(min_length=2, max_length=200, description="e.g. Klub Seniora")
    started_on: IsoDate


class SessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    held_on: IsoDate
    minutes: int = Field(ge=15, le=720, description="the session's length in minutes")


class SessionOut(BaseModel):
    session_id: UUID
    held_on: date
    minutes: int


class ActivityOut(BaseModel):
    activity_id: UUID
    gmina: str
    activity_type: ActivityType
    title: str
    started_on: date
    ended_on: date | None
    sessions: int = Field(description="sessions held")
    hours: float = Field(description="hours of the sessions held")


class ActivityDetailOut(ActivityOut):
    held: list[SessionOut]


def _out(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "hours": round(int(row["minutes"]) / 60, 2)}


async def _one(ctx: ServiceContext, activity_id: UUID, principal: Principal) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        found = await groups.activity(conn, activity_id)
        if found is None:
            raise NotFound("activity_not_found", f"nie ma zajęć {activity_id}")
        principal.require_gmina(found.gmina)
        [row] = [a for a in await groups.activities_of(conn, found.gmina)
                 if a["activity_id"] == activity_id]  # fmt: skip
        held = await groups.sessions_of(conn, activity_id)
    return {**_out(row), "held": held}


@router.post("/activities", status_code=201, response_model=ActivityDetailOut)
async def register_activity(
    body: ActivityIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = Coordinator,
) -> JSONResponse:
    """A group activity of the gmina's PZK → activity.registered.v1."""
    gmina = terc().gmina(body.gmina, field="gmina")
    principal.require_gmina(gmina.code)
    request_hash = fingerprint("POST /activities", body)
    async with ctx.pool.acquire() as conn, conn.transaction():
        if first := await replay(conn, principal, idempotency_key, request_hash):
            return first
        activity, event = activities.register(
            gmina.place, body.activity_type, body.title, body.started_on, date.today()
        )
        await groups.add_activity(conn, activity, principal.subject)
        await outbox.add(conn, ctx.origin, event)
        out = ActivityDetailOut(
            activity_id=activity.activity_id, gmina=activity.gmina,
            activity_type=activity.activity_type, title=activity.title,
            started_on=activity.started_on, ended_on=None, sessions=0, hours=0.0, held=[],
        )  # fmt: skip
        return await answer(conn, principal, idempotency_key, request_hash, 201, out)


@router.get("/activities", response_model=list[ActivityOut])
async def list_activities(
    ctx: Ctx,
    gmina: Annotated[str | None, Query(pattern=r"^\d{7}$")] = None,
    principal: Principal = Readers,
) -> Any:
    """The gmina's group activities, latest first, with their sessions and hours."""
    code = principal.gmina_in_scope(gmina)
    async with ctx.pool.acquire() as conn:
        return [_out(a) for a in await groups.activities_of(conn, code)]


@router.get("/activities/{activity_id}", response_model=ActivityDetailOut)
async def read_activity(activity_id: UUID, ctx: Ctx, principal: Principal = Readers) -> Any:
    """The activity and its sessions."""
    return await _one(ctx, activity_id, principal)


@router.post(
    "/activities/{activity_id}/sessions", status_code=201, response_model=ActivityDetailOut
)
async def hold_session(
    activity_id: UUID,
    body: SessionIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = Coordinator,
) -> JSONResponse:
    """A session that took place → activity.session_held.v1; answers the activity."""
    request_hash = fingerprint(f"POST /activities/{activity_id}/sessions", body)
    async with ctx.pool.acquire() as conn, conn.transaction():
        found = await groups.activity(conn, activity_id)
        if found is None:
            raise NotFound("activity_not_found", f"nie ma zajęć {activity_id}")
        principal.require_gmina(found.gmina)
        if first := await replay(conn, principal, idempotency_key, request_hash):
            return first
        place = terc().gmina(found.gmina).place
        event = activities.hold_session(found, place, body.held_on, body.minutes, date.today())
        await groups.add_session(conn, event)
        await outbox.add(conn, ctx.origin, event)
        [row] = [a for a in await groups.activities_of(conn, found.gmina)
                 if a["activity_id"] == activity_id]  # fmt: skip
        out = {**_out(row), "held": await groups.sessions_of(conn, activity_id)}
        return await answer(
            conn, principal, idempotency_key, request_hash, 201, ActivityDetailOut(**out)
        )
