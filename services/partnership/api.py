"""The partnership's HTTP routes: a gmina's partnership (agreement, members with their history,
representatives, roles, diagnostic team). Every change is the gmina's coordinator's, answers
the partnership as it stands and publishes `partnership.changed.v1` (ids only)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.partnership import domain, store
from shared import outbox
from shared.auth import Principal, Role, requires
from shared.codes import PartnershipRole, Sector
from shared.errors import NotFound
from shared.http import create_api
from shared.idempotency import IdempotencyKey, answer, fingerprint, replay
from shared.runtime import ServiceContext, context
from shared.teryt import terc
from shared.text import SingleLine

router = APIRouter(prefix="/api/v1", tags=["partnership"])
Ctx = Annotated[ServiceContext, Depends(context)]
GminaPath = Annotated[str, Path(pattern=r"^\d{7}$", description="TERYT gmina code")]
Document = Annotated[SingleLine, Field(min_length=1, max_length=300)]
EMAIL = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"

READERS = (Role.COORDINATOR, Role.CASEWORKER, Role.TEAM_MEMBER, Role.INSTITUTION_STAFF)
# Who sees the representatives' names and contacts: those who work with them.
SEES_PEOPLE = frozenset({Role.COORDINATOR, Role.TEAM_MEMBER})


# --- models ---------------------------------------------------------------------------------


class AgreementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    signed_on: date
    valid_from: date | None = Field(default=None, description="default: the day of signing")
    valid_until: date | None = Field(default=None, description="none: open-ended")
    gmina_signed: bool = Field(default=True, description="the gmina is a party")
    powiat_signed: bool = Field(default=True, description="the powiat is a party")
    parties: list[UUID] = Field(
        min_length=1, max_length=100, description="the institutions that signed; they join"
    )
    documents: list[Document] = Field(
        default_factory=list,
        max_length=20,
        description="references of the documents (resolution, agreement number, annex)",
    )


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    institution_id: UUID
    joined_on: date


class LeaveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    left_on: date


class RepresentativeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    institution_id: UUID
    name: SingleLine = Field(min_length=2, max_length=200)
    function: SingleLine = Field(min_length=2, max_length=200)
    email: str = Field(pattern=EMAIL, max_length=254)
    since: date | None = Field(default=None, description="default: today")


class RepresentativeEndIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    until: date | None = Field(default=None, description="default: today")


class RoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: PartnershipRole
    institution_id: UUID
    representative_id: UUID | None = Field(
        default=None, description="the person of the institution who holds it"
    )
    since: date | None = Field(default=None, description="default: today")


class DiagnosticTeamIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    institutions: list[UUID] = Field(max_length=100)


class PartnershipSummary(BaseModel):
    partnership_id: UUID
    gmina: str
    version: int
    members: int
    agreement_signed_on: date | None
    meetings: int


class AgreementOut(BaseModel):
    agreement_id: UUID
    signed_on: date
    valid_from: date
    valid_until: date | None
    gmina_signed: bool
    powiat_signed: bool
    documents: list[str]
    parties: list[UUID]


class MemberOut(BaseModel):
    institution_id: UUID
    name: str | None = Field(description="from the directory; none until referrals announced it")
    sector: Sector | None
    joined_on: date
    left_on: date | None


class RepresentativeOut(BaseModel):
    representative_id: UUID
    institution_id: UUID
    name: str | None
    function: str | None
    email: str | None
    since: date


class RoleOut(BaseModel):
    role: PartnershipRole
    institution_id: UUID
    name: str | None
    representative_id: UUID | None
    since: date
    until: date | None


class HistoryOut(BaseModel):
    at: datetime
    on_day: date
    what: str
    institution_id: UUID | None


class PartnershipOut(BaseModel):
    partnership_id: UUID
    gmina: str
    version: int
    agreements: list[AgreementOut]
    members: list[MemberOut]
    membership_history: list[MemberOut] = Field(description="every stretch of membership")
    representatives: list[RepresentativeOut] = Field(
        description="current ones; names and contacts for the coordinator and members only"
    )
    roles: list[RoleOut]
    role_history: list[RoleOut]
    diagnostic_team: list[UUID]
    history: list[HistoryOut]


class MembersOn(BaseModel):
    gmina: str
    on: date
    institutions: list[UUID]


# --- helpers --------------------------------------------------------------------------------


def _gmina(gmina: str) -> str:
    return terc().gmina(gmina).code


async def _readable(
    conn: asyncpg.Connection, gmina: str, principal: Principal
) -> tuple[UUID, domain.State]:
    pid = await store.partnership_id(conn, gmina)
    current = await store.state(conn, pid, gmina) if pid else domain.State(gmina)
    domain.may_read(principal, gmina, current.members)
    if pid is None:
        raise NotFound("partnership_not_found", f"gmina {gmina} has no partnership yet")
    return pid, current


async def _changed(
    conn: asyncpg.Connection, ctx: ServiceContext, pid: UUID, principal: Principal
) -> PartnershipOut:
    await outbox.add(conn, ctx.origin, await store.changed(conn, pid))
    return PartnershipOut.model_validate(await store.view(conn, pid, with_people=True))


async def _change(
    ctx: ServiceContext,
    principal: Principal,
    gmina: str,
    key: str | None,
    request_hash: str,
    apply: Any,
    status: int = 200,
) -> JSONResponse:
    """The frame of every change: the coordinator's, under the partnership's row lock, the
    retry answered as first, the event written with the change."""
    gmina = _gmina(gmina)
    domain.may_change(principal, gmina)
    async with ctx.pool.acquire() as conn, conn.transaction():
        if first := await replay(conn, principal, key, request_hash):
            return first
        pid = await store.partnership_id(conn, gmina, create=True, lock=True)
        assert pid is not None
        current = await store.state(conn, pid, gmina)
        await apply(conn, pid, current)
        result = await _changed(conn, ctx, pid, principal)
        return await answer(conn, principal, key, request_hash, status, result)


# --- reading --------------------------------------------------------------------------------


@router.get("/partnerships", response_model=list[PartnershipSummary])
async def list_partnerships(
    ctx: Ctx, principal: Principal = requires(*READERS)
) -> list[dict[str, Any]]:
    """The partnerships of the reader's territory, or those their institution sits on."""
    async with ctx.pool.acquire() as conn:
        if principal.role in (Role.TEAM_MEMBER, Role.INSTITUTION_STAFF):
            assert principal.institution is not None
            gminas = await store.gminas_of_member(conn, principal.institution)
        else:
            gminas = principal.gminas()
        return await store.summaries(conn, gminas)


@router.get("/partnerships/{gmina}", response_model=PartnershipOut)
async def get_partnership(
    gmina: GminaPath, ctx: Ctx, principal: Principal = requires(*READERS)
) -> dict[str, Any]:
    gmina = _gmina(gmina)
    async with ctx.pool.acquire() as conn:
        pid, _ = await _readable(conn, gmina, principal)
        return await store.view(conn, pid, with_people=principal.role in SEES_PEOPLE)


@router.get("/partnerships/{gmina}/members-on/{day}", response_model=MembersOn)
async def members_on(
    gmina: GminaPath, day: date, ctx: Ctx, principal: Principal = requires(*READERS)
) -> MembersOn:
    """Who was a member on a given day."""
    gmina = _gmina(gmina)
    async with ctx.pool.acquire() as conn:
        _, current = await _readable(conn, gmina, principal)
    return MembersOn(gmina=gmina, on=day, institutions=sorted(current.members_on(day)))


# --- changing -------------------------------------------------------------------------------


@router.post("/partnerships/{gmina}/agreements", status_code=201, response_model=PartnershipOut)
async def record_agreement(
    gmina: GminaPath,
    body: AgreementIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(Role.COORDINATOR),
) -> JSONResponse:
    """The written agreement (or an annex): its parties not yet members join on its first
    day. A partnership is formed by its first agreement."""
    valid_from = body.valid_from or body.signed_on
    domain.check_agreement(body.signed_on, valid_from, body.valid_until, date.today())

    async def apply(conn: asyncpg.Connection, pid: UUID, current: domain.State) -> None:
        joining = domain.parties_joining(current, body.parties)
        await store.add_agreement(
            conn,
            pid,
            signed_on=body.signed_on,
            valid_from=valid_from,
            valid_until=body.valid_until,
            gmina_signed=body.gmina_signed,
            powiat_signed=body.powiat_signed,
            documents=body.documents,
            parties=body.parties,
        )
        await store.log(conn, pid, body.signed_on, "agreement_signed", principal.subject)
        for institution in joining:
            await store.join(conn, pid, institution, valid_from)
            await store.log(conn, pid, valid_from, "joined", principal.subject, institution)

    request_hash = fingerprint(f"POST /partnerships/{gmina}/agreements", body)
    return await _change(ctx, principal, gmina, idempotency_key, request_hash, apply, 201)


@router.post("/partnerships/{gmina}/members", status_code=201, response_model=PartnershipOut)
async def add_member(
    gmina: GminaPath,
    body: MemberIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(Role.COORDINATOR),
) -> JSONResponse:
    async def apply(conn: asyncpg.Connection, pid: UUID, current: domain.State) -> None:
        domain.check_join(current, body.institution_id, body.joined_on, date.today())
        await store.join(conn, pid, body.institution_id, body.joined_on)
        await store.log(conn, pid, body.joined_on, "joined", principal.subject, body.institution_id)

    request_hash = fingerprint(f"POST /partnerships/{gmina}/members", body)
    return await _change(ctx, principal, gmina, idempotency_key, request_hash, apply, 201)


@router.post("/partnerships/{gmina}/members/{institution_id}/leave", response_model=PartnershipOut)
async def remove_member(
    gmina: GminaPath,
    institution_id: UUID,
    body: LeaveIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(Role.COORDINATOR),
) -> JSONResponse:
    """The institution leaves: its membership ends that day (kept in the history), it leaves
    the diagnostic team, and its representatives' personal data is erased."""

    async def apply(conn: asyncpg.Connection, pid: UUID, current: domain.State) -> None:
        domain.check_leave(current, institution_id, body.left_on, date.today())
        await store.leave(conn, pid, institution_id, body.left_on)
        await store.log(conn, pid, body.left_on, "left", principal.subject, institution_id)

    request_hash = fingerprint(f"POST /partnerships/{gmina}/members/{institution_id}/leave", body)
    return await _change(ctx, principal, gmina, idempotency_key, request_hash, apply)


@router.post(
    "/partnerships/{gmina}/representatives", status_code=201, response_model=PartnershipOut
)
async def add_representative(
    gmina: GminaPath,
    body: RepresentativeIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(Role.COORDINATOR),
) -> JSONResponse:
    """A person who represents a member institution: name, function and e-mail, kept here
    only (never in an event, a log or a report)."""
    since = body.since or date.today()

    async def apply(conn: asyncpg.Connection, pid: UUID, current: domain.State) -> None:
        domain.check_representative(current, body.institution_id, since, date.today())
        await store.add_representative(
            conn, pid, body.institution_id, body.name, body.function, body.email, since
        )
        await store.log(
            conn, pid, since, "representative_added", principal.subject, body.institution_id
        )

    request_hash = fingerprint(f"POST /partnerships/{gmina}/representatives", body)
    return await _change(ctx, principal, gmina, idempotency_key, request_hash, apply, 201)


@router.post(
    "/partnerships/{gmina}/representatives/{representative_id}/end",
    response_model=PartnershipOut,
)
async def end_representative(
    gmina: GminaPath,
    representative_id: UUID,
    body: RepresentativeEndIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(Role.COORDINATOR),
) -> JSONResponse:
    """The person no longer represents the institution: the dates stay, the personal data
    is erased."""
    until = body.until or date.today()

    async def apply(conn: asyncpg.Connection, pid: UUID, current: domain.State) -> None:
        found = await store.representative(conn, pid, representative_id)
        domain.check_representative_end(found, until, date.today())
        assert found is not None
        await store.end_representative(conn, pid, representative_id, until)
        await store.log(
            conn, pid, until, "representative_ended", principal.subject, found["institution_id"]
        )

    request_hash = fingerprint(
        f"POST /partnerships/{gmina}/representatives/{representative_id}/end", body
    )
    return await _change(ctx, principal, gmina, idempotency_key, request_hash, apply)


@router.post("/partnerships/{gmina}/roles", response_model=PartnershipOut)
async def assign_role(
    gmina: GminaPath,
    body: RoleIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(Role.COORDINATOR),
) -> JSONResponse:
    """The animator, the coordinator (a member institution each) or the adviser on the model
    (from the regional centre, ROPS); the earlier holder's term ends that day."""
    since = body.since or date.today()

    async def apply(conn: asyncpg.Connection, pid: UUID, current: domain.State) -> None:
        sector = await store.sector_of(conn, body.institution_id)
        domain.check_role(
            current, body.role, body.institution_id, Sector(sector) if sector else None
        )
        if body.representative_id is not None:
            found = await store.representative(conn, pid, body.representative_id)
            domain.check_role_holder(found, body.institution_id)
        domain.check_role_since(current, since, date.today())
        await store.set_role(
            conn, pid, body.role, body.institution_id, body.representative_id, since
        )
        await store.log(
            conn, pid, since, f"role_{body.role}", principal.subject, body.institution_id
        )

    request_hash = fingerprint(f"POST /partnerships/{gmina}/roles", body)
    return await _change(ctx, principal, gmina, idempotency_key, request_hash, apply)


@router.post("/partnerships/{gmina}/diagnostic-team", response_model=PartnershipOut)
async def set_diagnostic_team(
    gmina: GminaPath,
    body: DiagnosticTeamIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(Role.COORDINATOR),
) -> JSONResponse:
    """The diagnostic team (Zespół Diagnostyczny) as it should stand: members only."""

    async def apply(conn: asyncpg.Connection, pid: UUID, current: domain.State) -> None:
        team = domain.check_diagnostic_team(current, body.institutions)
        await store.set_diagnostic_team(conn, pid, team)
        await store.log(conn, pid, date.today(), "diagnostic_team_set", principal.subject)

    request_hash = fingerprint(f"POST /partnerships/{gmina}/diagnostic-team", body)
    return await _change(ctx, principal, gmina, idempotency_key, request_hash, apply)


def build_api() -> FastAPI:
    from services.partnership.activities_api import router as activities_router
    from services.partnership.meetings_api import router as meetings_router
    from services.partnership.surveys_api import router as surveys_router

    app = create_api(
        "partnership",
        description="Partnerstwo (G-PZK): porozumienie, członkowie, role, zespół diagnostyczny "
        "i spotkania.",
    )
    app.include_router(router)
    app.include_router(meetings_router)
    app.include_router(activities_router)
    app.include_router(surveys_router)
    return app
