"""Referrals' HTTP routes: the institution directory and institutions' referral inboxes."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel, ConfigDict, Field

from services.referrals import store
from shared import outbox
from shared.auth import Principal, Role, requires
from shared.codes import Sector, SupportType
from shared.errors import Forbidden
from shared.events import InstitutionRegistered, PartnershipChanged
from shared.http import create_api
from shared.runtime import ServiceContext, context
from shared.teryt import terc

router = APIRouter(prefix="/api/v1", tags=["referrals"])
Ctx = Annotated[ServiceContext, Depends(context)]


class InstitutionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=2, max_length=300)
    sector: Sector
    support_types: list[SupportType] = Field(min_length=1)
    gminas: list[str] = Field(min_length=1, description="TERYT gmina codes served")
    powiats: list[str] = Field(default_factory=list, description="TERYT powiat codes served")
    capacity: int = Field(default=10, ge=0, le=10_000)
    partnership_gminas: list[str] = Field(
        default_factory=list, description="gminas whose PZK the institution sits on"
    )


@router.post("/institutions", status_code=201)
async def register_institution(
    body: InstitutionIn, ctx: Ctx, principal: Principal = requires(Role.COORDINATOR)
) -> dict[str, Any]:
    for i, code in enumerate(body.gminas):
        terc().gmina(code, field=f"gminas[{i}]")
        principal.require_gmina(code)
    for i, code in enumerate(body.partnership_gminas):
        terc().gmina(code, field=f"partnership_gminas[{i}]")
        principal.require_gmina(code)
    institution_id = uuid4()
    inst = {**body.model_dump(mode="json"), "institution_id": institution_id}
    async with ctx.pool.acquire() as conn, conn.transaction():
        await store.register_institution(conn, inst)
        events: list[Any] = [
            InstitutionRegistered(
                institution_id=institution_id,
                name=body.name,
                sector=body.sector,
                support_types=body.support_types,
                gminas=body.gminas,
            )
        ]
        for gmina in body.partnership_gminas:
            events.append(
                PartnershipChanged(
                    gmina=gmina, institutions=await store.partnership_of(conn, gmina)
                )
            )
        await outbox.add(conn, ctx.origin, *events)
    return {"institution_id": institution_id}


@router.get("/institutions")
async def list_institutions(
    ctx: Ctx, _: Principal = requires(Role.COORDINATOR, Role.INSTITUTION_STAFF, Role.OPERATOR)
) -> list[dict[str, Any]]:
    async with ctx.pool.acquire() as conn:
        return await store.list_institutions(conn)


@router.get("/referrals")
async def list_referrals(
    ctx: Ctx,
    institution: UUID | None = None,
    state: str | None = None,
    case_id: UUID | None = None,
    principal: Principal = requires(Role.INSTITUTION_STAFF, Role.COORDINATOR),
) -> list[dict[str, Any]]:
    if principal.role is Role.INSTITUTION_STAFF:
        if institution is not None and institution != principal.institution:
            raise Forbidden("other_institution", "you see only your institution's referrals")
        institution = principal.institution
    async with ctx.pool.acquire() as conn:
        found = await store.find_referrals(
            conn, institution_id=institution, state=state, case_id=case_id
        )
    if principal.role is Role.COORDINATOR:
        found = [r for r in found if principal.covers_gmina(r["gmina"])]
    return found


def build_api() -> FastAPI:
    app = create_api("referrals", description="Katalog instytucji partnerskich i skierowania.")
    app.include_router(router)
    return app
