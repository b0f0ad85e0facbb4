"""Referrals' HTTP routes: the institution directory, institutions' referral inboxes and their
answers (accept, decline, complete), and the coordinator's list of overdue referrals."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.referrals import answers, directory, link_api, routing, store
from services.referrals.domain import ReferralState
from shared import outbox
from shared.auth import Principal, Role, requires
from shared.codes import DeclineReason, Sector, SupportOutcome, SupportType
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.events import (
    Event,
    InstitutionRegistered,
    InstitutionUpdated,
    Place,
)
from shared.http import create_api
from shared.idempotency import IdempotencyKey, answer, fingerprint, replay
from shared.paging import Offset
from shared.runtime import ServiceContext, context
from shared.teryt import terc
from shared.text import SingleLine

router = APIRouter(prefix="/api/v1", tags=["referrals"])
Ctx = Annotated[ServiceContext, Depends(context)]
Capacity = Annotated[int, Field(ge=0, le=10_000)]


class InstitutionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: SingleLine = Field(min_length=2, max_length=300)
    sector: Sector
    support_types: list[SupportType] = Field(min_length=1)
    gminas: list[str] = Field(
        default_factory=list,
        description="TERYT gmina codes served; may be empty for an institution serving whole "
        "powiats (a PCPR), which routing then considers in every gmina of those powiats",
    )
    powiats: list[str] = Field(
        default_factory=list, description="TERYT powiat codes served, each as a whole"
    )
    capacity: Capacity = Field(default=10, description="open referrals per support type")
    capacity_by_type: dict[SupportType, Capacity] = Field(
        default_factory=dict, description="capacity of particular support types"
    )
    partnership_gminas: list[str] = Field(
        default_factory=list,
        description="no longer set here: PZK membership belongs to the partnership service "
        "(POST /partnerships/{gmina}/members there); only an empty list is taken",
    )
    another_of_the_same_name: bool = Field(
        default=False,
        description="an institution of this name already serves one of these gminas, and "
        "this is a second one, not the same registered twice (else 409)",
    )
    ops_gmina: str | None = Field(
        default=None,
        description="the gmina (TERYT) whose social-assistance centre (OPS) this is: supports "
        "only the OPS may decide (a financial benefit) are assigned to it and to no other",
    )
    contact_email: str | None = Field(
        default=None,
        max_length=254,
        pattern=r"^[^@\s\x00-\x1f\x7f]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$",
        description="the institution's contact address (its office, not a person's): each "
        "referral is e-mailed there with a link to answer it without an account",
    )


class InstitutionChange(BaseModel):
    """Fields to change; those left out keep their value."""

    model_config = ConfigDict(extra="forbid")
    name: SingleLine | None = Field(default=None, min_length=2, max_length=300)
    sector: Sector | None = None
    support_types: list[SupportType] | None = Field(default=None, min_length=1)
    gminas: list[str] | None = None
    powiats: list[str] | None = None
    capacity: Capacity | None = None
    capacity_by_type: dict[SupportType, Capacity] | None = None
    partnership_gminas: list[str] | None = Field(
        default=None,
        description="no longer changed here: PZK membership belongs to the partnership service",
    )
    another_of_the_same_name: bool = Field(
        default=False,
        description="the new name or area meets an institution of the same name, and that "
        "is meant (else 409)",
    )
    ops_gmina: str | None = None
    contact_email: str | None = Field(
        default=None,
        max_length=254,
        pattern=r"^[^@\s\x00-\x1f\x7f]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$",
        description="the institution's contact address (its office, not a person's): each "
        "referral is e-mailed there with a link to answer it without an account",
    )


class Decline(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: DeclineReason


class Completion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: SupportOutcome


class ReferralOut(BaseModel):
    """A referral as its institution and the gmina's coordinator see it: codes, dates, ids."""

    referral_id: UUID
    recommendation_id: UUID
    diagnosis_id: UUID
    case_id: UUID
    round: int = Field(description="the case's round: 2 and more after a reopening")
    gmina: str
    powiat: str
    region: str
    variant: str
    support_type: str
    priority: int
    institution_id: UUID | None
    state: str
    attempt: int
    accept_by: datetime | None
    complete_by: datetime | None
    accepted_at: datetime | None
    closed_at: datetime | None
    decline_reason: str | None
    outcome: str | None
    cancel_reason: str | None
    acceptance_overdue_at: datetime | None
    completion_overdue_at: datetime | None
    created_at: datetime
    updated_at: datetime


class OverdueReferralOut(ReferralOut):
    stage: Literal["acceptance", "completion"]


class InstitutionOut(BaseModel):
    """An institution of the directory: what it offers, where, and how many places."""

    institution_id: UUID
    name: str
    sector: Sector
    support_types: list[SupportType]
    gminas: list[str] = Field(description="TERYT gmina codes served")
    powiats: list[str] = Field(description="TERYT powiat codes served")
    capacity: int = Field(description="open referrals per support type")
    capacity_by_type: dict[SupportType, int] = Field(
        description="capacity of particular support types"
    )
    partnership_gminas: list[str] = Field(
        description="gminas whose PZK the institution sits on, as the partnership service "
        "announces them"
    )
    ops_gmina: str | None = Field(description="the gmina whose OPS this is")
    contact_email: str | None = Field(
        default=None, description="where referrals are e-mailed with a link to answer them"
    )
    active: bool
    created_at: datetime
    updated_at: datetime


class InstitutionRegisteredOut(BaseModel):
    institution_id: UUID


# --- directory ------------------------------------------------------------------------------


def _refuse_partnership_change(gminas: list[str] | None) -> None:
    """PZK membership is the partnership service's: a request still setting it here is told
    where it went (an empty list, or on a change the list as it stands, is let through for
    older clients)."""
    if gminas:
        raise InvalidInput(
            "partnership_moved",
            "Członkostwo w Partnerskim Zespole Kooperacji ustala koordynator gminy w usłudze "
            "partnerstwa (porozumienie, członkowie), nie w katalogu instytucji.",
            field="partnership_gminas",
        )


def _check_directory_entry(inst: dict[str, Any]) -> None:
    """Places must be TERYT codes, at least one gmina or powiat served, capacities of support
    types offered."""
    if not inst["gminas"] and not inst["powiats"]:
        raise InvalidInput(
            "no_area_served",
            "Podaj gminy, w których działa instytucja, albo powiaty, w których działa w całości "
            "(np. PCPR): bez obszaru działania nie można do niej kierować.",
            field="gminas",
        )
    for i, code in enumerate(inst["gminas"]):
        terc().gmina(code, field=f"gminas[{i}]")
    for i, code in enumerate(inst["powiats"]):
        if not any(g.powiat == code for g in terc().in_region(code[:2])):
            raise InvalidInput(
                "unknown_teryt",
                f"Kod „{code}” nie jest kodem powiatu w rejestrze TERC.",
                field=f"powiats[{i}]",
            )
    for support_type in inst["capacity_by_type"]:
        if support_type not in inst["support_types"]:
            raise InvalidInput(
                "capacity_of_unoffered_support",
                f"Instytucja nie oferuje wsparcia „{support_type}”: pojemność można podać tylko"
                " dla oferowanych rodzajów wsparcia.",
                field=f"capacity_by_type.{support_type}",
            )
    ops = inst["ops_gmina"]
    if ops is not None:
        terc().gmina(ops, field="ops_gmina")
    if ops is not None and (
        ops not in inst["gminas"] or inst["sector"] != Sector.SOCIAL_ASSISTANCE
    ):
        raise InvalidInput(
            "not_the_gminas_ops",
            "OPS gminy należy do sektora pomocy społecznej i działa w tej gminie.",
            field="ops_gmina",
        )


async def _refuse_second_ops(
    conn: asyncpg.Connection, inst: dict[str, Any], principal: Principal
) -> None:
    """A gmina has one social-assistance centre (OPS)."""
    if inst["ops_gmina"] is None:
        return
    principal.require_gmina(inst["ops_gmina"])
    other = await store.ops_of(conn, inst["ops_gmina"])
    if other is not None and other != inst["institution_id"]:
        raise Conflict(
            "ops_taken",
            f"Gmina {inst['ops_gmina']} ma już swój OPS w katalogu (instytucja {other}).",
            field="ops_gmina",
        )


def _directory_event(inst: dict[str, Any], cls: type[InstitutionRegistered]) -> Event:
    return cls(
        institution_id=inst["institution_id"],
        name=inst["name"],
        sector=inst["sector"],
        support_types=inst["support_types"],
        gminas=inst["gminas"],
        powiats=inst["powiats"],
        active=inst["active"],
    )


@router.post("/institutions", status_code=201, response_model=InstitutionRegisteredOut)
async def register_institution(
    body: InstitutionIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(Role.COORDINATOR),
) -> JSONResponse:
    _refuse_partnership_change(body.partnership_gminas)
    inst: dict[str, Any] = {
        **body.model_dump(mode="json", exclude={"another_of_the_same_name", "partnership_gminas"}),
        "institution_id": uuid4(),
        "active": True,
    }
    _check_directory_entry(inst)
    directory.may_register(principal, inst)
    request_hash = fingerprint("POST /institutions", body)
    async with ctx.pool.acquire() as conn, conn.transaction():
        if first := await replay(conn, principal, idempotency_key, request_hash):
            return first
        await store.lock_routing(conn)
        if not body.another_of_the_same_name:
            await _refuse_namesake(conn, inst)
        await _refuse_second_ops(conn, inst, principal)
        await store.register_institution(conn, inst)
        events: list[Event] = [_directory_event(inst, InstitutionRegistered)]
        # A new institution is new room: waiting recommendations it can take are assigned.
        events += await routing.assign_waiting_for(conn, {inst["institution_id"]})
        await outbox.add(conn, ctx.origin, *events)
        result = InstitutionRegisteredOut(institution_id=inst["institution_id"])
        return await answer(conn, principal, idempotency_key, request_hash, 201, result)


@router.get("/institutions", response_model=list[InstitutionOut])
async def list_institutions(
    ctx: Ctx, _: Principal = requires(Role.COORDINATOR, Role.INSTITUTION_STAFF, Role.OPERATOR)
) -> list[dict[str, Any]]:
    async with ctx.pool.acquire() as conn:
        return await store.list_institutions(conn)


async def _institution_or_404(conn: asyncpg.Connection, institution_id: UUID) -> dict[str, Any]:
    found = await store.get_institution(conn, institution_id, for_update=True)
    if found is None:
        raise NotFound("institution_not_found", "Nie ma takiej instytucji w katalogu.")
    return found


async def _refuse_namesake(conn: asyncpg.Connection, inst: dict[str, Any]) -> None:
    """Two institutions of one name in one gmina are a double registration unless the
    request says that a second one is meant."""
    powiats = {*inst["powiats"], *(g[:4] for g in inst["gminas"])}
    found = await store.namesakes(
        conn, inst["name"], directory.served_gminas(inst), powiats, inst["institution_id"]
    )
    if found:
        raise Conflict(
            "institution_name_taken",
            f"Instytucja o tej nazwie działa już na tym obszarze ({found[0]}). Jeśli chodzi o"
            " drugą instytucję o tej samej nazwie, wyślij another_of_the_same_name: true.",
            field="name",
        )


def _require_manager(inst: dict[str, Any], principal: Principal) -> None:
    if not any(principal.covers_gmina(g) for g in directory.served_gminas(inst)):
        raise Forbidden(
            "out_of_scope", "Instytucja nie działa w żadnej gminie z Twojego zakresu uprawnień."
        )


@router.get("/institutions/{institution_id}", response_model=InstitutionOut)
async def get_institution(
    institution_id: UUID,
    ctx: Ctx,
    _: Principal = requires(Role.COORDINATOR, Role.INSTITUTION_STAFF, Role.OPERATOR),
) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        found = await store.get_institution(conn, institution_id)
    if found is None:
        raise NotFound("institution_not_found", "Nie ma takiej instytucji w katalogu.")
    return found


@router.patch("/institutions/{institution_id}", response_model=InstitutionOut)
async def update_institution(
    institution_id: UUID,
    body: InstitutionChange,
    ctx: Ctx,
    principal: Principal = requires(Role.COORDINATOR),
) -> dict[str, Any]:
    change = body.model_dump(mode="json", exclude_unset=True, exclude={"another_of_the_same_name"})
    membership = change.pop("partnership_gminas", None)
    for key, value in change.items():
        if value is None and key != "ops_gmina":  # null: no longer the gmina's OPS
            raise InvalidInput("null_value", "To pole nie może być puste.", field=key)
    async with ctx.pool.acquire() as conn, conn.transaction():
        await store.lock_routing(conn)
        before = await _institution_or_404(conn, institution_id)
        _require_manager(before, principal)
        if membership is not None and sorted(membership) != before["partnership_gminas"]:
            _refuse_partnership_change(membership or ["-"])
        after = {**before, **change}
        _check_directory_entry(after)
        directory.may_change(principal, before, after)
        renamed_or_moved = any(before[k] != after[k] for k in ("name", "gminas", "powiats"))
        if renamed_or_moved and not body.another_of_the_same_name:
            await _refuse_namesake(conn, after)
        if after["ops_gmina"] != before["ops_gmina"]:
            await _refuse_second_ops(conn, after, principal)
        await store.update_institution(conn, after)
        events: list[Event] = [_directory_event(after, InstitutionUpdated)]
        # Raised capacity or a wider area may be room for waiting recommendations.
        events += await routing.assign_waiting_for(conn, {institution_id})
        await outbox.add(conn, ctx.origin, *events)
        return await _institution_or_404(conn, institution_id)


@router.post("/institutions/{institution_id}/deactivate", response_model=InstitutionOut)
async def deactivate_institution(
    institution_id: UUID,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(Role.COORDINATOR),
) -> JSONResponse:
    """The institution stops taking referrals; its open referrals go to the next institution."""
    request_hash = fingerprint(f"POST /institutions/{institution_id}/deactivate", None)
    async with ctx.pool.acquire() as conn, conn.transaction():
        inst = await store.get_institution(conn, institution_id)
        if inst is None:
            raise NotFound("institution_not_found", "Nie ma takiej instytucji w katalogu.")
        _require_manager(inst, principal)
        directory.may_deactivate(principal, inst)
        if first := await replay(conn, principal, idempotency_key, request_hash):
            return first
        if not inst["active"]:
            raise Conflict("already_inactive", "Instytucja jest już wyłączona z kierowania.")
        # Case locks first, then the routing lock: the order every other writer keeps.
        cases = sorted(
            {r["case_id"] for r in await store.open_referrals_of_institution(conn, institution_id)},
            key=str,
        )
        for case_id in cases:
            await store.lock_case(conn, case_id)
        await store.lock_routing(conn)
        inst = await _institution_or_404(conn, institution_id)
        inst["active"] = False
        await store.update_institution(conn, inst)
        events: list[Event] = [_directory_event(inst, InstitutionUpdated)]
        for row in await store.open_referrals_of_institution(conn, institution_id):
            if row["case_id"] not in cases and not await store.try_lock_case(conn, row["case_id"]):
                raise Conflict("busy", "a referral of this institution is changing; try again")
            row = await store.get_referral(conn, row["referral_id"], for_update=True)
            assert row is not None
            events += await routing.cancel(conn, row, "institution_deactivated")
            events += await routing.reroute(conn, row)
        await outbox.add(conn, ctx.origin, *events)
        result = InstitutionOut(**await _institution_or_404(conn, institution_id))
        return await answer(conn, principal, idempotency_key, request_hash, 200, result)


# --- referrals ------------------------------------------------------------------------------


@router.get("/referrals", response_model=list[ReferralOut])
async def list_referrals(
    ctx: Ctx,
    institution: UUID | None = None,
    state: ReferralState | None = None,
    case_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    offset: Offset = 0,
    principal: Principal = requires(Role.INSTITUTION_STAFF, Role.COORDINATOR),
) -> list[dict[str, Any]]:
    """An institution's inbox (staff see only their own), or a coordinator's view of a gmina;
    oldest first (the nearest deadlines), a page of `limit` from `offset`."""
    if principal.role is Role.INSTITUTION_STAFF:
        if institution is not None and institution != principal.institution:
            raise Forbidden("other_institution", "you see only your institution's referrals")
        institution = principal.institution
    territory = _territory(principal) if principal.role is Role.COORDINATOR else None
    async with ctx.pool.acquire() as conn:
        return await store.find_referrals(
            conn,
            institution_id=institution,
            state=str(state) if state else None,
            case_id=case_id,
            gminas=territory,
            limit=limit,
            offset=offset,
        )


def _territory(principal: Principal) -> list[str]:
    """The gminas a coordinator covers (of their gmina, powiat or region), as whole codes."""
    territory = principal.gminas()
    if not territory:
        raise Forbidden(
            "out_of_scope", "Twoje uprawnienia nie wskazują gminy, powiatu ani województwa."
        )
    return territory


@router.get("/referrals/overdue", response_model=list[OverdueReferralOut])
async def list_overdue(
    ctx: Ctx,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    offset: Offset = 0,
    principal: Principal = requires(Role.COORDINATOR),
) -> list[dict[str, Any]]:
    """Referrals of the coordinator's gmina(s) past a deadline and still not acted on, the
    longest overdue first."""
    async with ctx.pool.acquire() as conn:
        return await store.overdue_referrals(conn, _territory(principal), limit, offset)


def _visible(
    referral: dict[str, Any] | None, principal: Principal, moved_to: Place | None = None
) -> bool:
    """Institution staff see their institution's referrals; a coordinator those of the cases
    of their territory: where a transferred case is now (`moved_to`), else where it was made."""
    if referral is None:
        return False
    if principal.role is Role.INSTITUTION_STAFF:
        return principal.institution is not None and (
            referral["institution_id"] == principal.institution
        )
    return principal.covers_gmina(moved_to.gmina if moved_to else referral["gmina"])


def _not_found(referral_id: UUID) -> NotFound:
    # Another institution's referral answers like a missing one: its existence is not shared.
    return NotFound("referral_not_found", f"no referral {referral_id} in your inbox")


@router.get("/referrals/{referral_id}", response_model=ReferralOut)
async def get_referral(
    referral_id: UUID,
    ctx: Ctx,
    principal: Principal = requires(Role.INSTITUTION_STAFF, Role.COORDINATOR),
) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        found = await store.get_referral(conn, referral_id)
        moved_to = await store.case_place(conn, found["case_id"]) if found else None
    if found is None or not _visible(found, principal, moved_to):
        raise _not_found(referral_id)
    return found


async def _lock_own_referral(
    conn: asyncpg.Connection, referral_id: UUID, principal: Principal, *, frees_place: bool
) -> dict[str, Any]:
    """The staff member's referral, locked (answers.lock_referral); another institution's
    answers like a missing one."""
    found = await store.get_referral(conn, referral_id)
    if found is None or not _visible(found, principal):
        raise _not_found(referral_id)
    locked = await answers.lock_referral(conn, referral_id, frees_place=frees_place)
    assert locked is not None
    return locked


async def _answered(conn: asyncpg.Connection, referral_id: UUID) -> ReferralOut:
    """The referral as it stands after the institution's answer (in the same transaction)."""
    found = await store.get_referral(conn, referral_id)
    assert found is not None
    return ReferralOut(**found)


@router.post("/referrals/{referral_id}/accept", response_model=ReferralOut)
async def accept_referral(
    referral_id: UUID,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(Role.INSTITUTION_STAFF),
) -> JSONResponse:
    request_hash = fingerprint(f"POST /referrals/{referral_id}/accept", None)
    async with ctx.pool.acquire() as conn, conn.transaction():
        ref = await _lock_own_referral(conn, referral_id, principal, frees_place=False)
        if first := await replay(conn, principal, idempotency_key, request_hash):
            return first
        await answers.accept(conn, ctx.origin, ref)
        result = await _answered(conn, referral_id)
        return await answer(conn, principal, idempotency_key, request_hash, 200, result)


@router.post("/referrals/{referral_id}/decline", response_model=ReferralOut)
async def decline_referral(
    referral_id: UUID,
    body: Decline,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(Role.INSTITUTION_STAFF),
) -> JSONResponse:
    """Decline with a reason code; the recommendation goes to the next institution at once."""
    request_hash = fingerprint(f"POST /referrals/{referral_id}/decline", body)
    async with ctx.pool.acquire() as conn, conn.transaction():
        ref = await _lock_own_referral(conn, referral_id, principal, frees_place=True)
        if first := await replay(conn, principal, idempotency_key, request_hash):
            return first
        await answers.decline(conn, ctx.origin, ref, body.reason)
        result = await _answered(conn, referral_id)
        return await answer(conn, principal, idempotency_key, request_hash, 200, result)


@router.post("/referrals/{referral_id}/complete", response_model=ReferralOut)
async def complete_referral(
    referral_id: UUID,
    body: Completion,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(Role.INSTITUTION_STAFF),
) -> JSONResponse:
    """Record that the support was given and with what outcome; the place is freed."""
    request_hash = fingerprint(f"POST /referrals/{referral_id}/complete", body)
    async with ctx.pool.acquire() as conn, conn.transaction():
        ref = await _lock_own_referral(conn, referral_id, principal, frees_place=True)
        if first := await replay(conn, principal, idempotency_key, request_hash):
            return first
        await answers.complete(conn, ctx.origin, ref, body.outcome)
        result = await _answered(conn, referral_id)
        return await answer(conn, principal, idempotency_key, request_hash, 200, result)


class CaseReferralOut(BaseModel):
    """A referral as the gmina's caseworker and coordinator follow it, with its states and
    outcome (skierowanie: przydzielone, przyjęte, odrzucone, zrealizowane, anulowane)."""

    referral_id: UUID
    recommendation_id: UUID
    diagnosis_id: UUID
    case_id: UUID
    gmina: str
    support_type: SupportType
    priority: int
    institution_id: UUID | None
    institution_name: str | None
    sector: Sector | None
    state: ReferralState
    attempt: int
    accept_by: datetime | None
    complete_by: datetime | None
    accepted_at: datetime | None
    closed_at: datetime | None
    decline_reason: DeclineReason | None
    outcome: SupportOutcome | None
    cancel_reason: str | None
    acceptance_overdue_at: datetime | None
    completion_overdue_at: datetime | None
    own_relation: bool = Field(
        description="accepted, and the family withdrew its consent since: the support goes on "
        "as the institution's own relation with the family"
    )
    created_at: datetime
    updated_at: datetime


@router.get("/cases/{case_id}/referrals", tags=["cases"], response_model=list[CaseReferralOut])
async def list_case_referrals(
    case_id: UUID, ctx: Ctx, principal: Principal = requires(Role.CASEWORKER, Role.COORDINATOR)
) -> list[CaseReferralOut]:
    """Every referral of a case of your gmina (powiat, region), every attempt with its state
    and outcome, so that one case page shows the case's whole path; another territory's
    referrals are not listed."""
    async with ctx.pool.acquire() as conn:
        rows = await store.referrals_of_case(conn, case_id, _territory(principal))
    return [
        CaseReferralOut(**{**r, "gmina": r["gmina"].strip(), "sector": r["sector"]}) for r in rows
    ]


def build_api() -> FastAPI:
    app = create_api("referrals", description="Katalog instytucji partnerskich i skierowania.")
    app.include_router(router)
    app.include_router(link_api.router)
    return app
