"""Intake's HTTP routes: open, find, read (audited), record consent, close and reopen cases."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Annotated, Any
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi.responses import JSONResponse

from services.intake import (
    bulk_api,
    casefile_api,
    casefile_store,
    domain,
    evaluation_api,
    store,
)
from services.intake.casefile import TransferState
from services.intake.casefile_schemas import PersonExportOut
from services.intake.domain import CaseState, CaseStatus, Step
from services.intake.schemas import (
    AuditEntryOut,
    CaseIn,
    CaseOut,
    CaseOverviewOut,
    CaseRecordOut,
    CaseSummaryOut,
    CloseIn,
    ConsentIn,
    ConsentWithdrawalIn,
    PersonsOut,
    StatusOut,
)
from shared import audit_log, outbox
from shared.access_reason import ReasonHeader, ReasonQuery, access_reason
from shared.auth import Principal, Role, requires
from shared.errors import InvalidInput, NotFound
from shared.events import ReasonCode
from shared.http import create_api
from shared.idempotency import IdempotencyKey, answer, fingerprint, replay
from shared.isodate import IsoDate
from shared.paging import Offset
from shared.runtime import ServiceContext, context
from shared.teryt import terc

router = APIRouter(prefix="/api/v1", tags=["cases"])
Ctx = Annotated[ServiceContext, Depends(context)]


# --- routes -----------------------------------------------------------------------------------


@router.post("/cases", status_code=201, response_model=CaseOut)
async def open_case(
    body: CaseIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(Role.CASEWORKER),
) -> JSONResponse:
    gmina = terc().gmina(body.gmina, field="gmina")
    principal.require_gmina(gmina.code)
    case = body.new_case(date.today())
    request_hash = fingerprint("POST /cases", body)
    pesels = [m.pesel for m in case.members]
    async with ctx.pool.acquire() as conn, conn.transaction():
        if first := await replay(conn, principal, idempotency_key, request_hash):
            return first
        open_cases = await store.lock_open_cases_by_pesel(
            conn, gmina.code, [p for p in pesels if p]
        )
        if refused := domain.duplicate_case(gmina.code, pesels, open_cases):
            raise refused
        await store.save_case(conn, case, opened_by=principal.subject)
        # Who opened it with personal data, as an import records each case it opens.
        await store.audit(conn, principal, case.case_id, gmina.code, "opened", "założenie sprawy")
        await outbox.add(conn, ctx.origin, case.opened_event())
        out = CaseOut(
            case_id=case.case_id, gmina=gmina.code, status=case.status, opened_on=case.opened_on
        )
        return await answer(conn, principal, idempotency_key, request_hash, 201, out)


@router.get("/cases", response_model=list[CaseSummaryOut])
async def list_cases(
    ctx: Ctx,
    gmina: Annotated[str | None, Query(pattern=r"^\d{7}$")] = None,
    status: CaseStatus | None = None,
    reason: ReasonCode | None = None,
    opened_from: IsoDate | None = None,
    opened_to: IsoDate | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
    principal: Principal = requires(Role.CASEWORKER, Role.COORDINATOR),
) -> list[dict[str, Any]]:
    """Cases of a gmina, newest first; codes only, so no audit is needed."""
    code = gmina or principal.gmina
    if code is None:
        raise InvalidInput("gmina_required", "name the gmina to list", field="gmina")
    terc().gmina(code, field="gmina")
    principal.require_gmina(code)
    if opened_from and opened_to and opened_from > opened_to:
        raise InvalidInput("empty_period", "opened_from is after opened_to", field="opened_from")
    async with ctx.pool.acquire() as conn:
        return await store.search(
            conn,
            gmina=code,
            status=str(status) if status else None,
            reason=str(reason) if reason else None,
            opened_from=opened_from,
            opened_to=opened_to,
            limit=limit,
            offset=offset,
        )


@router.get("/cases/{case_id}/overview", response_model=CaseOverviewOut)
async def case_overview(
    case_id: UUID,
    ctx: Ctx,
    principal: Principal = requires(Role.CASEWORKER, Role.COORDINATOR),
) -> dict[str, Any]:
    """The case's status, reasons, consent and history, without anyone's personal data (so
    not audited): what the case page shows until a reason to see the household is given."""
    async with ctx.pool.acquire() as conn:
        found = await store.overview(conn, case_id)
    if found is None:
        raise NotFound("case_not_found", f"no case {case_id}")
    principal.require_gmina(found["gmina"])
    return found


@router.get("/cases/{case_id}", response_model=CaseRecordOut)
async def read_case(
    case_id: UUID,
    ctx: Ctx,
    x_access_reason: ReasonHeader = None,
    reason: ReasonQuery = None,
    principal: Principal = requires(Role.CASEWORKER, Role.COORDINATOR),
) -> dict[str, Any]:
    """The whole case with its people and history; the read is written to the audit log."""
    why = access_reason(x_access_reason, reason)
    async with ctx.pool.acquire() as conn, conn.transaction():
        case = await store.get_case(conn, case_id)
        if case is None:
            raise NotFound("case_not_found", f"no case {case_id}")
        principal.require_gmina(case["gmina"])
        await store.audit(conn, principal, case_id, case["gmina"], "case_record", why)
    return case


@router.get("/cases/{case_id}/persons", response_model=PersonsOut)
async def read_persons(
    case_id: UUID,
    ctx: Ctx,
    x_access_reason: ReasonHeader = None,
    reason: ReasonQuery = None,
    principal: Principal = requires(Role.CASEWORKER, Role.COORDINATOR, Role.INSTITUTION_STAFF),
) -> dict[str, Any]:
    """Minimal personal data (names, age, contact) for those who work with the family: the
    gmina's staff, and an institution that accepted a referral for the case within the
    family's consent. Audited."""
    why = access_reason(x_access_reason, reason)
    async with ctx.pool.acquire() as conn, conn.transaction():
        found = await store.case_gmina_and_consent(conn, case_id)
        granted = (
            await store.granted_sectors(conn, case_id, principal.institution)
            if principal.role is Role.INSTITUTION_STAFF and principal.institution
            else []
        )
        gmina = domain.may_read_persons(principal, case_id, found, granted)
        members = await store.members_of(conn, case_id)
        await store.audit(conn, principal, case_id, gmina, "minimal_personal_data", why)
    today = date.today()
    return {
        "case_id": case_id,
        "persons": [
            {
                "first_name": m["first_name"],
                "last_name": m["last_name"],
                # Anonymised after retention: the birth date is gone, the age with it.
                "age": domain.age_on(m["birth_date"], today) if m["birth_date"] else None,
                "relation": m["relation"],
                "phone": m["phone"],
                "email": m["email"],
            }
            for m in members
        ],
    }


async def _transition(
    ctx: ServiceContext,
    case_id: UUID,
    principal: Principal,
    key: str | None,
    request_hash: str,
    act: Any,
) -> JSONResponse:
    """Load the case locked and check the caller's scope; then replay a retried request or
    apply `act(conn, state)`. A replay is never a way around the scope."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        state = await store.load_state(conn, case_id, lock=True)
        if state is None:
            raise NotFound("case_not_found", f"no case {case_id}")
        principal.require_gmina(state.gmina.code)
        if first := await replay(conn, principal, key, request_hash):
            return first
        status = await act(conn, state)
        out = StatusOut(case_id=case_id, status=status)
        return await answer(conn, principal, key, request_hash, 200, out)


@router.post("/cases/{case_id}/close", response_model=StatusOut)
async def close_case(
    case_id: UUID,
    body: CloseIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(Role.CASEWORKER, Role.COORDINATOR),
) -> JSONResponse:
    today = date.today()

    async def act(conn: asyncpg.Connection, state: CaseState) -> CaseStatus:
        closed_on = body.closed_on or today
        after, event = state.close(body.outcome, closed_on, today)
        await store.move(
            conn,
            state,
            Step.CLOSE,
            after,
            principal.subject,
            outcome=str(body.outcome),
            closed_on=closed_on,
        )
        await outbox.add(conn, ctx.origin, event)
        await _withdraw_waiting_transfer(conn, state, principal)
        return after

    request_hash = fingerprint(f"POST /cases/{case_id}/close", body)
    return await _transition(ctx, case_id, principal, idempotency_key, request_hash, act)


async def _withdraw_waiting_transfer(
    conn: asyncpg.Connection, state: CaseState, principal: Principal
) -> None:
    """A closed case is no one's to take over: the transfer it waited for is withdrawn, as
    the sending OPS would withdraw it, in its history and the audit log. A reopening does not
    bring it back; the OPS asks again if the family still moves."""
    transfer = await casefile_store.waiting_transfer(conn, state.case_id)
    if transfer is None:
        return
    withdrawn = TransferState.WITHDRAWN
    await casefile_store.decide_transfer(conn, transfer.transfer_id, withdrawn, principal.subject)
    await casefile_store.record_change(conn, state.case_id, f"transfer_{withdrawn}",
                                       CaseStatus.CLOSED, principal.subject)  # fmt: skip
    route = f"przekazanie z gminy {transfer.from_gmina} do {transfer.to_gmina}"
    await store.audit(conn, principal, state.case_id, transfer.from_gmina,
                      f"transfer_{withdrawn}", f"{route} wycofane: sprawa zamknięta")  # fmt: skip


@router.post("/cases/{case_id}/reopen", response_model=StatusOut)
async def reopen_case(
    case_id: UUID,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(Role.CASEWORKER, Role.COORDINATOR),
) -> JSONResponse:
    async def act(conn: asyncpg.Connection, state: CaseState) -> CaseStatus:
        after, event = state.reopen(date.today())
        pesels = await store.case_pesels(conn, case_id)
        gmina = state.gmina.code
        open_cases = await store.lock_open_cases_by_pesel(conn, gmina, pesels, other_than=case_id)
        if refused := domain.duplicate_case(gmina, pesels, open_cases, field="members"):
            raise refused
        # Recorded as a reopening and, with consent, a sending to diagnosis, as an opening is.
        reopened = CaseStatus.REOPENED
        await store.move(conn, state, Step.REOPEN, reopened, principal.subject, round=event.round)
        if after is not reopened:
            again = replace(state, status=reopened)
            await store.move(conn, again, Step.SEND_TO_DIAGNOSIS, after, principal.subject)
        await outbox.add(conn, ctx.origin, event)
        return after

    request_hash = fingerprint(f"POST /cases/{case_id}/reopen", None)
    return await _transition(ctx, case_id, principal, idempotency_key, request_hash, act)


@router.post("/cases/{case_id}/send-to-diagnosis", response_model=StatusOut)
async def send_to_diagnosis(
    case_id: UUID,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(Role.CASEWORKER, Role.COORDINATOR),
) -> JSONResponse:
    """Record that a case is before the PZK; refused without consent. A case reopened with
    consent is there already (the answer says so and nothing changes)."""

    async def act(conn: asyncpg.Connection, state: CaseState) -> CaseStatus:
        after = state.send_to_diagnosis()
        if after is not state.status:
            await store.move(conn, state, Step.SEND_TO_DIAGNOSIS, after, principal.subject)
        return after

    request_hash = fingerprint(f"POST /cases/{case_id}/send-to-diagnosis", None)
    return await _transition(ctx, case_id, principal, idempotency_key, request_hash, act)


@router.post("/cases/{case_id}/consent", response_model=StatusOut)
async def give_consent(
    case_id: UUID,
    body: ConsentIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(Role.CASEWORKER, Role.COORDINATOR),
) -> JSONResponse:
    """Record the family's consent to share data within the PZK, given after the case was
    opened; a case still with the centre goes to the PZK's diagnosis. Refused when the case
    already has consent or is closed."""

    async def act(conn: asyncpg.Connection, state: CaseState) -> CaseStatus:
        consent, after, event = state.give_consent(body.given_on, body.scope, date.today())
        await store.give_consent(conn, state, consent, principal.subject)
        if after is not state.status:
            await store.move(conn, state, Step.SEND_TO_DIAGNOSIS, after, principal.subject)
        if state.consent_withdrawn_on is not None:
            # Sharing reopens: the grants of supports still going on give access again.
            await store.audit_grants(
                conn,
                case_id,
                state.gmina.code,
                "grant_resumed",
                f"consent given on {body.given_on}",
            )
        await outbox.add(conn, ctx.origin, event)
        return after

    request_hash = fingerprint(f"POST /cases/{case_id}/consent", body)
    return await _transition(ctx, case_id, principal, idempotency_key, request_hash, act)


@router.post("/cases/{case_id}/consent/withdrawal", response_model=StatusOut)
async def withdraw_consent(
    case_id: UUID,
    body: ConsentWithdrawalIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(Role.CASEWORKER, Role.COORDINATOR),
) -> JSONResponse:
    """Record that the family withdrew its consent to share data within the PZK (RODO art.
    7(3)) → case.consent_withdrawn.v1. From then on no institution reads the case's personal
    data (each access grant that ends is audited), the team adds nothing to the diagnosis and
    referrals not yet accepted are cancelled; accepted supports go on as the institution's own
    relation with the family. Consent given again (POST /cases/{id}/consent) reopens sharing."""

    async def act(conn: asyncpg.Connection, state: CaseState) -> CaseStatus:
        after, event = state.withdraw_consent(body.withdrawn_on, date.today())
        await store.withdraw_consent(conn, state, body.withdrawn_on, principal.subject)
        await store.audit_grants(
            conn,
            case_id,
            state.gmina.code,
            "grant_ended",
            f"consent withdrawn on {body.withdrawn_on}",
        )
        await outbox.add(conn, ctx.origin, event)
        return after

    request_hash = fingerprint(f"POST /cases/{case_id}/consent/withdrawal", body)
    return await _transition(ctx, case_id, principal, idempotency_key, request_hash, act)


@router.get("/audit", tags=["audit"], response_model=list[AuditEntryOut])
async def read_audit_log(
    ctx: Ctx,
    gmina: Annotated[str | None, Query(pattern=r"^\d{7}$")] = None,
    case_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    principal: Principal = requires(Role.COORDINATOR),
) -> list[dict[str, Any]]:
    """Who read which case's personal data, when and why; newest first."""
    code = principal.gmina_in_scope(gmina)
    async with ctx.pool.acquire() as conn:
        return await audit_log.entries(conn, gmina=code, case_id=case_id, limit=limit)


@router.get("/persons/{person_id}/export", tags=["data protection"], response_model=PersonExportOut)
async def export_person(
    person_id: UUID,
    ctx: Ctx,
    x_access_reason: ReasonHeader = None,
    reason: ReasonQuery = None,
    principal: Principal = requires(Role.COORDINATOR),
) -> dict[str, Any]:
    """All that intake holds on one person (RODO art. 15 access right): their record in each
    case of your scope (the same PESEL links cases), those cases' codes, interview summary,
    interview entries, notes and history, and who read them. Other household members' data is
    theirs and is left out. The export itself is audited, so it appears in its own answer."""
    why = access_reason(x_access_reason, reason)
    async with ctx.pool.acquire() as conn, conn.transaction():
        rows = await store.person_cases(conn, person_id)
        subject = next((r for r in rows if r["person_id"] == person_id), None)
        if subject is None:
            raise NotFound("person_not_found", f"no person {person_id}")
        principal.require_gmina(subject["gmina"])
        mine = [r for r in rows if principal.covers_gmina(r["gmina"])]
        records = []
        for row in mine:
            await store.audit(conn, principal, row["case_id"], row["gmina"], "rodo_export", why)
        for row in mine:
            case = await store.get_case(conn, row["case_id"])
            assert case is not None  # a member row references its case
            [member] = [m for m in case.pop("members") if m["person_id"] == row["person_id"]]
            records.append(
                {
                    "case": case,
                    "person": {**member, "anonymised_at": row["anonymised_at"]},
                    "interview_entries": await casefile_store.interviews_of(conn, row["case_id"]),
                    "notes": await casefile_store.notes_of(conn, row["case_id"]),
                    "read_by": await audit_log.of_case(conn, row["case_id"]),
                }
            )
    return {
        "person_id": person_id,
        "records": records,
        "cases_outside_your_scope": len(rows) - len(mine),
    }


def build_api() -> FastAPI:
    app = create_api(
        "intake", description="Przyjęcie sprawy: gospodarstwa domowe i ich członkowie."
    )
    app.include_router(bulk_api.router)
    app.include_router(casefile_api.router)
    app.include_router(evaluation_api.router)
    app.include_router(router)
    return app
