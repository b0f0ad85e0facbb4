"""The partnership's meetings: the coordinator records a meeting (date, agenda, attendance by
institution, the cases discussed, decisions, minutes) and decisions added later. Each change
publishes `meeting.held.v1` (ids, sectors, counts); a decision about a case publishes
`meeting.decision_recorded.v1`, which the case's timeline shows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.partnership import domain, store
from services.partnership import meetings_store as meetings
from services.partnership.api import READERS, GminaPath, _gmina, _readable
from shared import outbox
from shared.auth import Principal, Role, requires
from shared.codes import DecisionKind, Sector, SupportType
from shared.errors import Forbidden, NotFound
from shared.events import Event
from shared.idempotency import IdempotencyKey, answer, fingerprint, replay
from shared.runtime import ServiceContext, context
from shared.text import MultiLine

router = APIRouter(prefix="/api/v1", tags=["meetings"])
Ctx = Annotated[ServiceContext, Depends(context)]


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: DecisionKind
    case_id: UUID | None = Field(default=None, description="the case decided about")
    institution_id: UUID | None = Field(
        default=None, description="for a referral agreed: the institution referred to"
    )
    support_type: SupportType | None = Field(
        default=None, description="for a referral agreed: the support it gives"
    )
    description: MultiLine = Field(default="", max_length=2000)

    def draft(self) -> domain.DecisionDraft:
        return domain.DecisionDraft(self.kind, self.case_id, self.institution_id, self.support_type)


class MeetingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    held_on: date
    agenda: MultiLine = Field(default="", max_length=5000)
    minutes: MultiLine = Field(default="", max_length=50_000)
    attendance: list[UUID] = Field(
        min_length=1, max_length=100, description="the institutions that attended"
    )
    cases: list[UUID] = Field(default_factory=list, max_length=500)
    decisions: list[DecisionIn] = Field(default_factory=list, max_length=200)


class AttendanceOut(BaseModel):
    institution_id: UUID
    name: str | None
    sector: Sector


class DecisionOut(BaseModel):
    decision_id: UUID
    kind: DecisionKind
    case_id: UUID | None
    institution_id: UUID | None
    support_type: SupportType | None
    description: str


class MeetingOut(BaseModel):
    meeting_id: UUID
    gmina: str
    held_on: date
    agenda: str
    minutes: str
    version: int
    recorded_at: datetime
    attendance: list[AttendanceOut]
    cases: list[UUID]
    decisions: list[DecisionOut]


class MeetingSummary(BaseModel):
    meeting_id: UUID
    held_on: date
    version: int
    institutions: int
    cases: int
    decisions: int


class CaseDecisionOut(BaseModel):
    decision_id: UUID
    kind: DecisionKind
    meeting_id: UUID
    held_on: date
    gmina: str
    institution_id: UUID | None
    institution_name: str | None
    support_type: SupportType | None


def _cases_of(cases: list[UUID], decisions: list[DecisionIn]) -> list[UUID]:
    """The cases discussed: those named, and those a decision is about."""
    seen = dict.fromkeys(cases)
    seen.update(dict.fromkeys(d.case_id for d in decisions if d.case_id is not None))
    return list(seen)


async def _decide(conn: asyncpg.Connection, meeting_id: UUID, decisions: list[DecisionIn]) -> None:
    for decision in decisions:
        await meetings.add_decision(conn, meeting_id, decision.draft(), decision.description)


def _events(found: dict[str, Any], new_decisions: int) -> list[Event]:
    events: list[Event] = [meetings.held_event(found)]
    for decision in found["decisions"][len(found["decisions"]) - new_decisions :]:
        if decision["case_id"] is not None:
            events.append(meetings.decision_event(found, decision))
    return events


@router.post("/partnerships/{gmina}/meetings", status_code=201, response_model=MeetingOut)
async def record_meeting(
    gmina: GminaPath,
    body: MeetingIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(Role.COORDINATOR),
) -> JSONResponse:
    gmina = _gmina(gmina)
    domain.may_change(principal, gmina)
    for i, decision in enumerate(body.decisions):
        domain.check_decision(decision.draft(), f"decisions[{i}]")
    request_hash = fingerprint(f"POST /partnerships/{gmina}/meetings", body)
    async with ctx.pool.acquire() as conn, conn.transaction():
        if first := await replay(conn, principal, idempotency_key, request_hash):
            return first
        pid = await store.partnership_id(conn, gmina, lock=True)
        if pid is None:
            raise NotFound("partnership_not_found", f"gmina {gmina} has no partnership yet")
        current = await store.state(conn, pid, gmina)
        domain.check_meeting(current, body.held_on, body.attendance, date.today())
        meeting_id = await meetings.add_meeting(
            conn,
            pid,
            held_on=body.held_on,
            agenda=body.agenda,
            minutes=body.minutes,
            attendance=body.attendance,
            cases=_cases_of(body.cases, body.decisions),
            actor=principal.subject,
        )
        await _decide(conn, meeting_id, body.decisions)
        found = await meetings.meeting(conn, meeting_id)
        assert found is not None
        await outbox.add(conn, ctx.origin, *_events(found, len(body.decisions)))
        result = MeetingOut.model_validate(found)
        return await answer(conn, principal, idempotency_key, request_hash, 201, result)


@router.post("/meetings/{meeting_id}/decisions", status_code=201, response_model=MeetingOut)
async def add_decision(
    meeting_id: UUID,
    body: DecisionIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(Role.COORDINATOR),
) -> JSONResponse:
    """A decision of the meeting recorded afterwards (its case joins the cases discussed)."""
    domain.check_decision(body.draft(), "body")
    request_hash = fingerprint(f"POST /meetings/{meeting_id}/decisions", body)
    async with ctx.pool.acquire() as conn, conn.transaction():
        found = await meetings.meeting(conn, meeting_id, lock=True)
        if found is None or not principal.covers_gmina(found["gmina"]):
            raise NotFound("meeting_not_found", f"no meeting {meeting_id}")
        domain.may_change(principal, found["gmina"])
        if first := await replay(conn, principal, idempotency_key, request_hash):
            return first
        await _decide(conn, meeting_id, [body])
        await meetings.add_cases(conn, meeting_id, _cases_of([], [body]))
        await meetings.bump(conn, meeting_id)
        found = await meetings.meeting(conn, meeting_id)
        assert found is not None
        await outbox.add(conn, ctx.origin, *_events(found, 1))
        result = MeetingOut.model_validate(found)
        return await answer(conn, principal, idempotency_key, request_hash, 201, result)


@router.get("/partnerships/{gmina}/meetings", response_model=list[MeetingSummary])
async def list_meetings(
    gmina: GminaPath, ctx: Ctx, principal: Principal = requires(*READERS)
) -> list[dict[str, Any]]:
    gmina = _gmina(gmina)
    async with ctx.pool.acquire() as conn:
        pid, _ = await _readable(conn, gmina, principal)
        return await meetings.meetings_of(conn, pid)


@router.get("/meetings/{meeting_id}", response_model=MeetingOut)
async def get_meeting(
    meeting_id: UUID, ctx: Ctx, principal: Principal = requires(*READERS)
) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        found = await meetings.meeting(conn, meeting_id)
        if found is None:
            raise NotFound("meeting_not_found", f"no meeting {meeting_id}")
        try:
            await _readable(conn, found["gmina"], principal)
        except Forbidden as exc:
            # Another territory's meeting is not even said to exist.
            raise NotFound("meeting_not_found", f"no meeting {meeting_id}") from exc
        return found


@router.get("/cases/{case_id}/decisions", response_model=list[CaseDecisionOut])
async def case_decisions(
    case_id: UUID,
    ctx: Ctx,
    principal: Principal = requires(Role.CASEWORKER, Role.COORDINATOR),
) -> list[dict[str, Any]]:
    """The decisions the partnerships of the reader's territory took about the case, for its
    timeline ("decided at the meeting of …")."""
    async with ctx.pool.acquire() as conn:
        return await meetings.decisions_of_case(conn, case_id, principal.gminas())
