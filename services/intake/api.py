"""Intake's HTTP routes: open a case, read it back."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel, ConfigDict, Field

from services.intake import domain, store
from shared import outbox
from shared.auth import Principal, Role, requires
from shared.codes import NotifiedBy, Reason
from shared.errors import NotFound
from shared.http import create_api
from shared.runtime import ServiceContext, context
from shared.teryt import terc

router = APIRouter(prefix="/api/v1", tags=["cases"])
Ctx = Annotated[ServiceContext, Depends(context)]


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    birth_date: date
    sex: Literal["F", "M"]
    relation: str = Field(default="head", max_length=50)
    pesel: str | None = Field(default=None, pattern=r"^\d{11}$")


class CaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gmina: str = Field(pattern=r"^\d{7}$", description="TERYT gmina code")
    members: list[MemberIn] = Field(min_length=1, max_length=30)
    reasons: list[Reason] = Field(min_length=1)
    notified_by: NotifiedBy
    consent_to_share: bool


class CaseOut(BaseModel):
    case_id: UUID
    gmina: str
    status: str
    opened_on: date


@router.post("/cases", status_code=201, response_model=CaseOut)
async def open_case(
    body: CaseIn,
    ctx: Ctx,
    principal: Principal = requires(Role.CASEWORKER),
) -> CaseOut:
    gmina = terc().gmina(body.gmina, field="gmina")
    principal.require_gmina(gmina.code)
    case = domain.open_case(
        gmina=gmina,
        members=[domain.new_member(**m.model_dump()) for m in body.members],
        reasons=body.reasons,
        notified_by=body.notified_by,
        consent_to_share=body.consent_to_share,
        today=date.today(),
    )
    async with ctx.pool.acquire() as conn, conn.transaction():
        await store.save_case(conn, case, opened_by=principal.subject)
        await outbox.add(conn, ctx.origin, case.opened_event())
    return CaseOut(
        case_id=case.case_id, gmina=gmina.code, status="opened", opened_on=case.opened_on
    )


@router.get("/cases/{case_id}")
async def read_case(
    case_id: UUID,
    ctx: Ctx,
    principal: Principal = requires(Role.CASEWORKER, Role.COORDINATOR),
) -> dict[str, object]:
    async with ctx.pool.acquire() as conn:
        case = await store.get_case(conn, case_id)
    if case is None:
        raise NotFound("case_not_found", f"no case {case_id}")
    principal.require_gmina(case["gmina"])
    return case


def build_api() -> FastAPI:
    app = create_api(
        "intake", description="Przyjęcie sprawy: gospodarstwa domowe i ich członkowie."
    )
    app.include_router(router)
    return app
