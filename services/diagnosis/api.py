"""Diagnosis's HTTP routes: find a diagnosis, add assessments, complete it."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel, ConfigDict, Field

from services.diagnosis import store
from services.diagnosis.domain import Assessment
from shared import outbox
from shared.auth import Principal, Role, requires
from shared.codes import NeedArea, SupportType
from shared.errors import NotFound
from shared.http import create_api
from shared.runtime import ServiceContext, context

router = APIRouter(prefix="/api/v1", tags=["diagnoses"])
Ctx = Annotated[ServiceContext, Depends(context)]
TEAM = (Role.TEAM_MEMBER, Role.COORDINATOR)


class RecommendationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    support_type: SupportType
    priority: int = Field(default=2, ge=1, le=3)


class AssessmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    need_area: NeedArea
    severity: int = Field(ge=1, le=3)
    notes: str = Field(default="", max_length=5000)
    recommendations: list[RecommendationIn] = Field(default_factory=list, max_length=20)


@router.get("/diagnoses")
async def list_diagnoses(
    ctx: Ctx,
    case_id: UUID | None = None,
    status: str | None = None,
    principal: Principal = requires(*TEAM),
) -> list[dict[str, Any]]:
    async with ctx.pool.acquire() as conn:
        found = await store.find(conn, case_id=case_id, gminas=None, status=status)
    return [d for d in found if principal.covers_gmina(d["gmina"])]


async def _load_in_scope(conn: Any, diagnosis_id: UUID, principal: Principal, *, lock: bool):
    diagnosis = await store.load(conn, diagnosis_id, lock=lock)
    if diagnosis is None or not principal.covers_gmina(diagnosis.place.gmina):
        raise NotFound("diagnosis_not_found", f"no diagnosis {diagnosis_id} in your scope")
    return diagnosis


@router.post("/diagnoses/{diagnosis_id}/assessments", status_code=201)
async def add_assessment(
    diagnosis_id: UUID, body: AssessmentIn, ctx: Ctx, principal: Principal = requires(*TEAM)
) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn, conn.transaction():
        diagnosis = await _load_in_scope(conn, diagnosis_id, principal, lock=True)
        diagnosis.ensure_open()
        assessment = Assessment(
            assessment_id=uuid4(),
            institution_id=principal.institution,
            need_area=body.need_area,
            severity=body.severity,
            recommendations=[(uuid4(), r.support_type, r.priority) for r in body.recommendations],
        )
        await store.add_assessment(conn, diagnosis_id, assessment, principal.subject, body.notes)
    return {
        "assessment_id": assessment.assessment_id,
        "recommendations": [rid for rid, _, _ in assessment.recommendations],
    }


@router.post("/diagnoses/{diagnosis_id}/complete")
async def complete(
    diagnosis_id: UUID, ctx: Ctx, principal: Principal = requires(Role.COORDINATOR)
) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn, conn.transaction():
        diagnosis = await _load_in_scope(conn, diagnosis_id, principal, lock=True)
        event = diagnosis.complete(date.today())
        await store.mark_completed(conn, diagnosis_id)
        await outbox.add(conn, ctx.origin, event)
    return {
        "diagnosis_id": diagnosis_id,
        "status": "completed",
        "recommendations": len(event.recommendations),
    }


def build_api() -> FastAPI:
    app = create_api("diagnosis", description="Wspólna diagnoza potrzeb rodziny przez PZK.")
    app.include_router(router)
    return app
