"""Diagnosis's HTTP routes: find a diagnosis, add assessments, complete it, revise it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, FastAPI, Header, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.diagnosis import domain, plan_api, plan_store, store
from services.diagnosis.domain import Assessment
from services.diagnosis.scope import load_in_scope as _load_in_scope
from shared import audit_log, outbox
from shared.auth import Principal, Role, requires
from shared.codes import NeedArea, SupportType
from shared.errors import InvalidInput, NotFound
from shared.events import Recommendation
from shared.http import create_api
from shared.idempotency import IdempotencyKey, answer, fingerprint, replay
from shared.paging import Offset
from shared.runtime import ServiceContext, context
from shared.text import MultiLine, SingleLine

router = APIRouter(prefix="/api/v1", tags=["diagnoses"])
Ctx = Annotated[ServiceContext, Depends(context)]
TEAM = (Role.TEAM_MEMBER, Role.COORDINATOR)


class RecommendationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    support_type: SupportType
    priority: int = Field(default=2, ge=1, le=3, description="1 = most urgent")


class AssessmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    need_area: NeedArea
    severity: int = Field(ge=1, le=3)
    notes: MultiLine = Field(default="", max_length=5000, description="stays in this service")
    recommendations: list[RecommendationIn] = Field(default_factory=list, max_length=20)


class AddedRecommendationIn(RecommendationIn):
    need_area: NeedArea


class DiagnosisSummary(BaseModel):
    """A diagnosis in a list: ids, place, state, and who has added their view so far."""

    diagnosis_id: UUID
    case_id: UUID
    gmina: str
    status: str
    round: int = Field(description="the case's round: 2 and more after a reopening")
    revision: int
    opened_at: datetime
    completed_at: datetime | None
    assessments: int
    institutions_assessed: list[UUID]


class RevisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    add: list[AddedRecommendationIn] = Field(default_factory=list, max_length=20)
    remove: list[UUID] = Field(default_factory=list, max_length=50)


class AssessmentAdded(BaseModel):
    assessment_id: UUID
    recommendations: list[UUID] = Field(
        description="per recommendation sent, the support it is: one already in the plan when "
        "its type was recommended before in this round, else a new one (its own id)"
    )


class DiagnosisCompleted(BaseModel):
    diagnosis_id: UUID
    status: Literal["completed"]
    round: int
    revision: int
    recommendations: int = Field(description="how many supports the plan has")


class DiagnosisRevised(BaseModel):
    diagnosis_id: UUID
    revision: int
    added: list[UUID] = Field(description="per recommendation added, the support it is")
    removed: list[UUID]
    recommendations: int = Field(description="how many supports the plan has now")


class NeedOut(BaseModel):
    area: NeedArea
    severity: int


class RecommendationOut(BaseModel):
    recommendation_id: UUID
    support_type: SupportType
    need_area: NeedArea
    priority: int
    need_areas: list[NeedArea] = Field(
        description="every need the support answers, need_area first (empty: need_area alone)"
    )


class AssessmentOut(BaseModel):
    assessment_id: UUID
    institution_id: UUID | None
    institution_name: str | None
    author: str
    need_area: NeedArea
    severity: int
    has_notes: bool = Field(description="notes are read apart: GET /diagnoses/{id}/notes")
    created_at: datetime


class DiagnosisOut(BaseModel):
    """A diagnosis with its needs, current recommendations (the supports of the plan) and
    assessments (notes apart)."""

    diagnosis_id: UUID
    case_id: UUID
    gmina: str
    status: Literal["open", "completed", "cancelled"]
    round: int = Field(description="the case's round: 2 and more after a reopening")
    in_review: bool = Field(description="reopened: open for review by the coordinator")
    revision: int
    consent_withdrawn_on: date | None
    needs: list[NeedOut]
    recommendations: list[RecommendationOut]
    assessments: list[AssessmentOut]


@router.get("/diagnoses", response_model=list[DiagnosisSummary])
async def list_diagnoses(
    ctx: Ctx,
    case_id: UUID | None = None,
    status: Literal["open", "completed", "cancelled"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 500,
    offset: Offset = 0,
    principal: Principal = requires(*TEAM),
) -> list[dict[str, Any]]:
    """Diagnoses in your scope: your gmina's (powiat's, region's), or those of the PZKs your
    institution sits on; newest first, a page of `limit` from `offset`."""
    async with ctx.pool.acquire() as conn:
        teams = (
            await store.gminas_of_institution(conn, principal.institution)
            if principal.institution
            else []
        )
        return await store.find(
            conn,
            case_id=case_id,
            scope_gminas=principal.gminas(),
            team_gminas=teams,
            status=status,
            limit=limit,
            offset=offset,
        )


@router.get("/diagnoses/{diagnosis_id}", response_model=DiagnosisOut)
async def read_diagnosis(
    diagnosis_id: UUID, ctx: Ctx, principal: Principal = requires(*TEAM)
) -> DiagnosisOut:
    """One diagnosis with its assessments and current recommendations. The assessments' notes
    are special-category data: read apart, with a reason (GET /diagnoses/{id}/notes)."""
    async with ctx.pool.acquire() as conn:
        diagnosis, _ = await _load_in_scope(conn, diagnosis_id, principal, lock=False)
        assessments = await store.assessment_rows(conn, diagnosis_id)
    return DiagnosisOut(
        diagnosis_id=diagnosis.diagnosis_id,
        case_id=diagnosis.case_id,
        gmina=diagnosis.place.gmina,
        status=diagnosis.status,  # type: ignore[arg-type]
        round=diagnosis.round,
        in_review=diagnosis.in_review,
        revision=diagnosis.revision,
        consent_withdrawn_on=diagnosis.consent_withdrawn_on,
        needs=[NeedOut(**n.model_dump()) for n in diagnosis.needs()],
        recommendations=[RecommendationOut(**r.model_dump()) for r in diagnosis.recommendations()],
        assessments=[AssessmentOut(**a) for a in assessments],
    )


@router.post(
    "/diagnoses/{diagnosis_id}/assessments", status_code=201, response_model=AssessmentAdded
)
async def add_assessment(
    diagnosis_id: UUID,
    body: AssessmentIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(*TEAM),
) -> JSONResponse:
    request_hash = fingerprint(f"POST /diagnoses/{diagnosis_id}/assessments", body)
    async with ctx.pool.acquire() as conn, conn.transaction():
        diagnosis, partnership = await _load_in_scope(conn, diagnosis_id, principal, lock=True)
        domain.may_assess(principal, diagnosis.place.gmina, partnership)
        if first := await replay(conn, principal, idempotency_key, request_hash):
            return first
        diagnosis.ensure_open()
        assessment = Assessment(
            assessment_id=uuid4(),
            institution_id=principal.institution,
            need_area=body.need_area,
            severity=body.severity,
            recommendations=[(uuid4(), r.support_type, r.priority) for r in body.recommendations],
            round=diagnosis.round,
        )
        await store.add_assessment(conn, diagnosis_id, assessment, principal.subject, body.notes)
        diagnosis.assessments.append(assessment)
        result = AssessmentAdded(
            assessment_id=assessment.assessment_id,
            # The support each recommendation is: one already in the plan when its type was
            # recommended before in this round (it now answers this need too), else a new one.
            recommendations=[diagnosis.support_of(rid) for rid, _, _ in assessment.recommendations],
        )
        return await answer(conn, principal, idempotency_key, request_hash, 201, result)


@router.post("/diagnoses/{diagnosis_id}/complete", response_model=DiagnosisCompleted)
async def complete(
    diagnosis_id: UUID,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(Role.COORDINATOR),
) -> JSONResponse:
    request_hash = fingerprint(f"POST /diagnoses/{diagnosis_id}/complete", None)
    async with ctx.pool.acquire() as conn, conn.transaction():
        diagnosis, _ = await _load_in_scope(conn, diagnosis_id, principal, lock=True)
        principal.require_gmina(diagnosis.place.gmina)
        if first := await replay(conn, principal, idempotency_key, request_hash):
            return first
        event = diagnosis.complete(date.today())
        await store.mark_completed(conn, diagnosis)
        await outbox.add(conn, ctx.origin, event)
        result = DiagnosisCompleted(
            diagnosis_id=diagnosis_id,
            status="completed",
            round=diagnosis.round,
            revision=diagnosis.revision,
            recommendations=len(event.recommendations),
        )
        return await answer(conn, principal, idempotency_key, request_hash, 200, result)


@router.post("/diagnoses/{diagnosis_id}/revisions", response_model=DiagnosisRevised)
async def revise(
    diagnosis_id: UUID,
    body: RevisionIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(Role.COORDINATOR),
) -> JSONResponse:
    """A review of a completed diagnosis by the coordinator → diagnosis.revised.v1; on a
    diagnosis open for review after a reopening, this concludes the review."""
    added = [
        Recommendation(
            recommendation_id=uuid4(),
            support_type=r.support_type,
            need_area=r.need_area,
            priority=r.priority,
        )
        for r in body.add
    ]
    request_hash = fingerprint(f"POST /diagnoses/{diagnosis_id}/revisions", body)
    async with ctx.pool.acquire() as conn, conn.transaction():
        diagnosis, _ = await _load_in_scope(conn, diagnosis_id, principal, lock=True)
        principal.require_gmina(diagnosis.place.gmina)
        if first := await replay(conn, principal, idempotency_key, request_hash):
            return first
        dropped_before = set(diagnosis.dropped)
        event = diagnosis.revise(added, body.remove, date.today())
        await store.save_revision(conn, diagnosis, added, diagnosis.dropped - dropped_before)
        await outbox.add(conn, ctx.origin, event)
        result = DiagnosisRevised(
            diagnosis_id=diagnosis_id,
            revision=event.revision,
            added=[diagnosis.support_of(r.recommendation_id) for r in added],
            removed=event.removed,
            recommendations=len(event.recommendations),
        )
        return await answer(conn, principal, idempotency_key, request_hash, 200, result)


ReasonHeader = Annotated[
    SingleLine | None,
    Header(alias="X-Access-Reason", max_length=500, description="Why you read the notes."),
]
ReasonQuery = Annotated[
    SingleLine | None, Query(alias="reason", max_length=500, description="Why you read the notes.")
]


class NoteOut(BaseModel):
    assessment_id: UUID
    institution_id: UUID | None
    institution_name: str | None
    author: str
    need_area: NeedArea
    notes: str
    created_at: datetime


class NotesOut(BaseModel):
    diagnosis_id: UUID
    case_id: UUID
    notes: list[NoteOut]


class AuditEntryOut(BaseModel):
    entry_id: int
    at: datetime
    subject: str
    role: str
    institution: UUID | None
    diagnosis_id: UUID
    case_id: UUID
    access: str
    purpose: str


def _purpose(header: str | None, query: str | None) -> str:
    purpose = (query or header or "").strip()
    if not purpose:
        raise InvalidInput(
            "access_reason_required",
            "say why you read the notes (X-Access-Reason header or reason parameter)",
            field="X-Access-Reason",
        )
    return purpose


@router.get("/diagnoses/{diagnosis_id}/notes", response_model=NotesOut)
async def read_notes(
    diagnosis_id: UUID,
    ctx: Ctx,
    x_access_reason: ReasonHeader = None,
    reason: ReasonQuery = None,
    principal: Principal = requires(Role.CASEWORKER, *TEAM),
) -> NotesOut:
    """The assessments' notes: special-category data (RODO art. 9: health, addiction,
    violence). For the gmina's caseworkers and coordinator, and for members of its PZK whose
    institution's sector the family's consent covers while it stands. Needs a reason; every
    read is written to the append-only audit log in the same transaction."""
    purpose = _purpose(x_access_reason, reason)
    async with ctx.pool.acquire() as conn, conn.transaction():
        diagnosis, partnership = await _load_in_scope(conn, diagnosis_id, principal, lock=False)
        sector = (
            await store.sector_of(conn, principal.institution) if principal.institution else None
        )
        domain.may_read_notes(principal, diagnosis, partnership, sector)
        rows = await store.notes_of(conn, diagnosis_id)
        await store.audit(conn, principal, diagnosis, "diagnosis_notes", purpose)
    return NotesOut(
        diagnosis_id=diagnosis_id,
        case_id=diagnosis.case_id,
        notes=[NoteOut(**r) for r in rows],
    )


@router.get("/audit", tags=["audit"], response_model=list[AuditEntryOut])
async def read_audit_log(
    ctx: Ctx,
    gmina: Annotated[str | None, Query(pattern=r"^\d{7}$")] = None,
    case_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    principal: Principal = requires(Role.COORDINATOR),
) -> list[AuditEntryOut]:
    """Who read which diagnosis's notes, when and why, and what retention erased; newest
    first."""
    code = principal.gmina_in_scope(gmina)
    async with ctx.pool.acquire() as conn:
        rows = await audit_log.entries(
            conn, gmina=code, case_id=case_id, limit=limit, also=("diagnosis_id",)
        )
    return [AuditEntryOut(**r) for r in rows]


class CaseDiagnosisOut(BaseModel):
    """The case's diagnosis as the gmina's caseworker and coordinator follow it: needs,
    severity, recommendations, who assessed what (notes apart), and the agreed plan."""

    diagnosis_id: UUID
    case_id: UUID
    gmina: str
    status: Literal["open", "completed", "cancelled"]
    revision: int
    consent_withdrawn_on: date | None
    needs: list[NeedOut]
    recommendations: list[RecommendationOut]
    assessments: list[AssessmentOut]
    plan: plan_api.PlanOut | None


@router.get("/cases/{case_id}/diagnosis", tags=["cases"], response_model=CaseDiagnosisOut)
async def read_case_diagnosis(
    case_id: UUID, ctx: Ctx, principal: Principal = requires(Role.CASEWORKER, Role.COORDINATOR)
) -> CaseDiagnosisOut:
    """For the gmina's caseworkers and coordinator (of the gmina, its powiat or region): the
    case's diagnosis and plan, so that one case page shows its whole path."""
    async with ctx.pool.acquire() as conn:
        diagnosis_id = await store.diagnosis_of_case(conn, case_id)
        diagnosis = await store.load(conn, diagnosis_id) if diagnosis_id else None
        if diagnosis is None:
            raise NotFound("diagnosis_not_found", f"case {case_id} has no diagnosis")
        principal.require_gmina(diagnosis.place.gmina)
        plan = await plan_store.load(conn, diagnosis.diagnosis_id)
        return CaseDiagnosisOut(
            diagnosis_id=diagnosis.diagnosis_id,
            case_id=case_id,
            gmina=diagnosis.place.gmina,
            status=diagnosis.status,  # type: ignore[arg-type]
            revision=diagnosis.revision,
            consent_withdrawn_on=diagnosis.consent_withdrawn_on,
            needs=[NeedOut(**n.model_dump()) for n in diagnosis.needs()],
            recommendations=[
                RecommendationOut(**r.model_dump()) for r in diagnosis.recommendations()
            ],
            assessments=[
                AssessmentOut(**a)
                for a in await store.assessment_rows(conn, diagnosis.diagnosis_id)
            ],
            plan=await plan_api.plan_out(conn, diagnosis, plan) if plan else None,
        )


def build_api() -> FastAPI:
    app = create_api("diagnosis", description="Wspólna diagnoza potrzeb rodziny przez PZK.")
    app.include_router(router)
    app.include_router(plan_api.router)
    return app
