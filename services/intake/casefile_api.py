"""The case file's HTTP routes: find a family, keep its household, interview and notes
current, transfer a case to another gmina's OPS, and the caseworker's worklist.

Every change is in the case's history and in the audit log; a change that alters what others
count emits `case.household_changed.v1`, a transfer `case.transferred.v1`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any
from uuid import UUID, uuid4

import asyncpg
from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from services.intake import casefile, domain, evaluation, evaluation_store, finding, store
from services.intake import casefile_store as files
from services.intake.casefile import Household, Transfer, TransferState
from services.intake.casefile_schemas import (
    AssignmentIn,
    AssignmentOut,
    FoundCase,
    FoundPerson,
    HouseholdChangeOut,
    InterviewEntryOut,
    InterviewIn,
    MemberAddIn,
    MemberCorrectionIn,
    MemberLeftIn,
    NoteIn,
    NoteOut,
    PossibleDuplicate,
    ReasonsIn,
    SearchIn,
    SearchOut,
    TransferIn,
    TransferOut,
    WaitingTransferOut,
    WorkItemOut,
    WorklistOut,
)
from services.intake.domain import Contact, new_member
from shared import outbox
from shared.access_reason import ReasonHeader, ReasonQuery, access_reason
from shared.auth import Principal, Role, requires
from shared.errors import InvalidInput, NotFound
from shared.idempotency import IdempotencyKey, answer, fingerprint, replay
from shared.runtime import ServiceContext, context
from shared.teryt import terc

router = APIRouter(prefix="/api/v1", tags=["case file"])
Ctx = Annotated[ServiceContext, Depends(context)]
Staff = requires(Role.CASEWORKER, Role.COORDINATOR)


def _gmina_of(principal: Principal, asked: str | None) -> str:
    code = asked or principal.gmina
    if code is None:
        raise InvalidInput("gmina_required", "podaj gminę", field="gmina")
    terc().gmina(code, field="gmina")
    principal.require_gmina(code)
    return code


# --- find a family ------------------------------------------------------------------------------


@router.post("/cases/search", response_model=SearchOut)
async def search_cases(
    body: SearchIn,
    ctx: Ctx,
    x_access_reason: ReasonHeader = None,
    principal: Principal = Staff,
) -> SearchOut:
    """Find your gmina's cases by surname (its start; case and diacritics ignored), PESEL or
    reference in the old software. The terms go in the body so no personal data lands in a
    URL or an access log; no Idempotency-Key (nothing changes). Needs a reason; every search
    is audited (each case shown, or the search itself when nothing was found). Possible
    duplicates: open cases of the powiat's other gminas with the same PESEL, or the same name
    and birth date — only that one exists and which OPS holds it."""
    gmina = _gmina_of(principal, body.gmina)
    purpose = access_reason(x_access_reason, body.reason, missing_field="reason")
    terms = finding.SearchTerms(body.surname, body.pesel, body.external_id)
    surname = finding.surname_range(body.surname) if body.surname else None
    access = f"search_by_{terms.kinds}"
    async with ctx.pool.acquire() as conn, conn.transaction():
        rows = await files.search(
            conn,
            gmina,
            surname=surname,
            pesel=body.pesel,
            external_id=body.external_id,
            limit=body.limit + 1,
        )
        limited = len(rows) > body.limit
        rows = rows[: body.limit]
        cases = _found_cases(rows)
        people = [
            finding.Person(r["person_id"], r["first_name"], r["last_name"], r["birth_date"],
                           r["pesel"].strip() if r["pesel"] else None)
            for r in rows if r["left_on"] is None
        ]  # fmt: skip
        duplicates, elsewhere = await _possible_duplicates(conn, gmina, body.pesel, people)
        for case in cases:
            await store.audit(conn, principal, case.case_id, gmina, access, purpose)
        if not cases:
            await store.audit(conn, principal, None, gmina, access, purpose)
        for case_id, other_gmina in elsewhere:
            await store.audit(conn, principal, case_id, other_gmina, "duplicate_check", purpose)
    return SearchOut(cases=cases, possible_duplicates=duplicates, limited=limited)


def _found_cases(rows: list[asyncpg.Record]) -> list[FoundCase]:
    by_case: dict[UUID, FoundCase] = {}
    for r in rows:
        case = by_case.setdefault(
            r["case_id"],
            FoundCase(
                case_id=r["case_id"],
                gmina=r["gmina"],
                status=r["status"],
                opened_on=r["opened_on"],
                external_id=r["external_id"],
                persons=[],
            ),
        )
        case.persons.append(
            FoundPerson(
                person_id=r["person_id"],
                first_name=r["first_name"],
                last_name=r["last_name"],
                birth_date=r["birth_date"],
                sex=r["sex"],
                relation=r["relation"],
                pesel=r["pesel"].strip() if r["pesel"] else None,
                left_household_on=r["left_on"],
            )
        )
    for case in by_case.values():
        case.persons.sort(key=lambda p: (finding.polish_sort_key(p.last_name),
                                         finding.polish_sort_key(p.first_name)))  # fmt: skip
    return list(by_case.values())


async def _possible_duplicates(
    conn: asyncpg.Connection, gmina: str, pesel: str | None, people: list[finding.Person]
) -> tuple[list[PossibleDuplicate], list[tuple[UUID, str]]]:
    """Possible duplicates in the neighbouring gminas, and the cases looked at (to audit)."""
    register = terc()
    neighbours = finding.neighbours(gmina, [g.code for g in register.in_region(gmina[:2])])
    searched = finding.Person(uuid4(), "", "", None, pesel) if pesel else None
    everyone = [*people, *([searched] if searched else [])]
    pesels = sorted({p.pesel for p in everyone if p.pesel})
    names = sorted(
        {(finding.fold(p.last_name), finding.fold(p.first_name), p.birth_date)
         for p in people if p.birth_date and p.last_name}
    )  # fmt: skip
    found = await files.open_cases_elsewhere(conn, neighbours, pesels, names)
    duplicates: dict[tuple[UUID | None, str, str], PossibleDuplicate] = {}
    looked_at: set[tuple[UUID, str]] = set()
    for other, case_id in found:
        for person in everyone:
            why = finding.matched_by(person, other)
            if why is None:
                continue
            looked_at.add((case_id, other.gmina))
            ours = None if person is searched else person.person_id
            name = register.gmina(other.gmina).name
            duplicates[(ours, why, other.gmina)] = PossibleDuplicate(
                person_id=ours, matched_by=why, gmina=other.gmina, gmina_name=name,  # type: ignore[arg-type]
                ops=f"ośrodek pomocy społecznej gminy {name}",
            )  # fmt: skip
    ordered = sorted(duplicates.values(), key=lambda d: (str(d.person_id), d.gmina, d.matched_by))
    return ordered, sorted(looked_at)


# --- household changes ----------------------------------------------------------------------


Change = Callable[[asyncpg.Connection, Household], Awaitable[tuple[Household, UUID | None]]]


async def _change_household(
    ctx: ServiceContext,
    case_id: UUID,
    principal: Principal,
    key: str | None,
    request_hash: str,
    step: str,
    change: Change,
    status_code: int = 200,
) -> JSONResponse:
    """Load the household locked, apply `change`, record history and audit, and emit
    case.household_changed.v1 when what others count changed."""
    today = date.today()
    async with ctx.pool.acquire() as conn, conn.transaction():
        before = await files.load_household(conn, case_id, lock=True)
        if before is None:
            raise NotFound("case_not_found", f"nie ma sprawy {case_id}")
        principal.require_gmina(before.gmina.code)
        if first := await replay(conn, principal, key, request_hash):  # never around the scope
            return first
        after, person_id = await change(conn, before)
        await files.record_change(conn, case_id, step, before.status, principal.subject)
        await store.audit(conn, principal, case_id, before.gmina.code, step, "zmiana akt sprawy")
        event = after.changed_event(before, today)
        if event is not None:
            await outbox.add(conn, ctx.origin, event)
        out = HouseholdChangeOut(
            case_id=case_id,
            person_id=person_id,
            household_size=len(after.present),
            counted=event is not None,
        )
        return await answer(conn, principal, key, request_hash, status_code, out)


async def _refuse_pesel_elsewhere(
    conn: asyncpg.Connection, household: Household, pesel: str | None
) -> None:
    if pesel is None:
        return
    gmina = household.gmina.code
    open_cases = await store.lock_open_cases_by_pesel(
        conn, gmina, [pesel], other_than=household.case_id
    )
    if refused := domain.duplicate_case(gmina, [pesel], open_cases, field="pesel"):
        raise refused


@router.post("/cases/{case_id}/members", status_code=201, response_model=HouseholdChangeOut)
async def add_member(
    case_id: UUID,
    body: MemberAddIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = Staff,
) -> JSONResponse:
    """A person joins the household, with the checks of an opening (PESEL against birth date
    and sex, not twice in the household, not in another open case of the gmina)."""
    today = date.today()

    async def change(conn: asyncpg.Connection, before: Household) -> tuple[Household, UUID]:
        member = new_member(
            **body.model_dump(exclude={"contact", "joined_on"}),
            contact=Contact(**(body.contact.model_dump() if body.contact else {})),
        )
        after = casefile.add_member(before, member, today)
        await _refuse_pesel_elsewhere(conn, before, member.pesel)
        await files.add_member(conn, case_id, member, body.joined_on or today)
        return after, member.person_id

    request_hash = fingerprint(f"POST /cases/{case_id}/members", body)
    return await _change_household(
        ctx, case_id, principal, idempotency_key, request_hash, "member_added", change, 201
    )


@router.post("/cases/{case_id}/members/{person_id}/left", response_model=HouseholdChangeOut)
async def member_left(
    case_id: UUID,
    person_id: UUID,
    body: MemberLeftIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = Staff,
) -> JSONResponse:
    """A member left the household: kept in the file with the date, no longer counted."""

    async def change(conn: asyncpg.Connection, before: Household) -> tuple[Household, UUID]:
        after = casefile.member_left(before, person_id, body.left_on, date.today())
        await files.mark_left(conn, person_id, body.left_on)
        return after, person_id

    request_hash = fingerprint(f"POST /cases/{case_id}/members/{person_id}/left", body)
    return await _change_household(
        ctx, case_id, principal, idempotency_key, request_hash, "member_left", change
    )


@router.patch("/cases/{case_id}/members/{person_id}", response_model=HouseholdChangeOut)
async def correct_member(
    case_id: UUID,
    person_id: UUID,
    body: MemberCorrectionIn,
    ctx: Ctx,
    principal: Principal = Staff,
) -> JSONResponse:
    """Correct a member's name, date of birth, sex, relation or PESEL, with the checks of an
    opening; a corrected birth date that moves an age band emits the change."""
    given = body.model_dump(include=body.model_fields_set)
    nullable = {"pesel"}
    if any(v is None for k, v in given.items() if k not in nullable):
        wrong = next(k for k, v in given.items() if v is None and k not in nullable)
        raise InvalidInput("value_required", f"{wrong}: podaj wartość", field=wrong)

    async def change(conn: asyncpg.Connection, before: Household) -> tuple[Household, UUID]:
        after, member = casefile.correct_member(before, person_id, given, date.today())
        if member.pesel != before.member(person_id).pesel:
            await _refuse_pesel_elsewhere(conn, before, member.pesel)
        await files.correct_member(conn, member)
        return after, person_id

    return await _change_household(ctx, case_id, principal, None, "", "member_corrected", change)


@router.post("/cases/{case_id}/reasons", response_model=HouseholdChangeOut)
async def revise_reasons(
    case_id: UUID,
    body: ReasonsIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = Staff,
) -> JSONResponse:
    """The reasons for assistance (art. 7) as they stand now."""

    async def change(conn: asyncpg.Connection, before: Household) -> tuple[Household, None]:
        after = casefile.revise_reasons(before, list(body.reasons))
        await files.revise_reasons(conn, case_id, list(after.reasons))
        return after, None

    request_hash = fingerprint(f"POST /cases/{case_id}/reasons", body)
    return await _change_household(
        ctx, case_id, principal, idempotency_key, request_hash, "reasons_revised", change
    )


# --- interview entries and notes ------------------------------------------------------------


async def _case_of_my_gmina(
    conn: asyncpg.Connection, case_id: UUID, principal: Principal, *, lock: bool = False
) -> Household:
    household = await files.load_household(conn, case_id, lock=lock)
    if household is None:
        raise NotFound("case_not_found", f"nie ma sprawy {case_id}")
    principal.require_gmina(household.gmina.code)
    return household


Record = Callable[[asyncpg.Connection, Household], Awaitable[dict[str, Any]]]


async def _add_entry(
    ctx: ServiceContext,
    case_id: UUID,
    principal: Principal,
    key: str | None,
    request_hash: str,
    access: str,
    record: Record,
) -> JSONResponse:
    """Add an interview entry or a note (`record` writes it and returns it as stored), audited
    as a change of the file."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        household = await _case_of_my_gmina(conn, case_id, principal, lock=True)
        if first := await replay(conn, principal, key, request_hash):  # never around the scope
            return first
        entry = await record(conn, household)
        await store.audit(conn, principal, case_id, household.gmina.code, access,
                          "zmiana akt sprawy")  # fmt: skip
        return await answer(conn, principal, key, request_hash, 201, entry)


async def _read_entries(
    ctx: ServiceContext,
    case_id: UUID,
    principal: Principal,
    purpose: str,
    access: str,
    fetch: Callable[[asyncpg.Connection, UUID], Awaitable[list[dict[str, Any]]]],
) -> list[dict[str, Any]]:
    """Interview entries or notes, for whoever may read the case's personal data; audited."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        household = await _case_of_my_gmina(conn, case_id, principal)
        await store.audit(conn, principal, case_id, household.gmina.code, access, purpose)
        return await fetch(conn, case_id)


@router.post("/cases/{case_id}/interviews", status_code=201, response_model=InterviewEntryOut)
async def add_interview(
    case_id: UUID,
    body: InterviewIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = Staff,
) -> JSONResponse:
    """A dated entry of the environmental interview (the first is the home interview, later
    ones update it); earlier entries are kept as they were."""

    async def record(conn: asyncpg.Connection, household: Household) -> dict[str, Any]:
        earlier = await files.interview_count(conn, case_id)
        kind = casefile.interview_kind(body.conducted_on, date.today(), earlier)
        entry_id = uuid4()
        await files.add_interview(
            conn, entry_id, case_id, str(kind), body.conducted_on, body.summary, principal.subject
        )
        await files.record_change(conn, case_id, f"interview_{kind}", household.status,
                                  principal.subject)  # fmt: skip
        return next(
            e for e in await files.interviews_of(conn, case_id) if e["entry_id"] == entry_id
        )

    request_hash = fingerprint(f"POST /cases/{case_id}/interviews", body)
    return await _add_entry(
        ctx, case_id, principal, idempotency_key, request_hash, "interview_added", record
    )


@router.get("/cases/{case_id}/interviews", response_model=list[InterviewEntryOut])
async def read_interviews(
    case_id: UUID,
    ctx: Ctx,
    x_access_reason: ReasonHeader = None,
    reason: ReasonQuery = None,
    principal: Principal = Staff,
) -> list[dict[str, Any]]:
    """Every interview entry of the case, oldest first; the read is audited."""
    purpose = access_reason(x_access_reason, reason)
    return await _read_entries(ctx, case_id, principal, purpose, "interviews", files.interviews_of)


@router.post("/cases/{case_id}/notes", status_code=201, response_model=NoteOut)
async def add_note(
    case_id: UUID,
    body: NoteIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = Staff,
) -> JSONResponse:
    """A dated case note; it stays in intake (never in an event). A follow-up date puts it on
    the worklist until a later note or interview entry is recorded."""
    today = date.today()
    noted_on = body.noted_on or today
    casefile.check_note(noted_on, body.follow_up_on, today)

    async def record(conn: asyncpg.Connection, _: Household) -> dict[str, Any]:
        note_id = uuid4()
        await files.add_note(
            conn, note_id, case_id, noted_on, body.text, body.follow_up_on, principal.subject
        )
        return next(n for n in await files.notes_of(conn, case_id) if n["note_id"] == note_id)

    request_hash = fingerprint(f"POST /cases/{case_id}/notes", body)
    return await _add_entry(
        ctx, case_id, principal, idempotency_key, request_hash, "note_added", record
    )


@router.get("/cases/{case_id}/notes", response_model=list[NoteOut])
async def read_notes(
    case_id: UUID,
    ctx: Ctx,
    x_access_reason: ReasonHeader = None,
    reason: ReasonQuery = None,
    principal: Principal = Staff,
) -> list[dict[str, Any]]:
    """The case's notes, oldest first, for whoever may read its personal data; audited."""
    purpose = access_reason(x_access_reason, reason)
    return await _read_entries(ctx, case_id, principal, purpose, "notes", files.notes_of)


# --- transfers ----------------------------------------------------------------------------------


def _transfer_out(t: Transfer, state: TransferState | None = None) -> TransferOut:
    return TransferOut(
        transfer_id=t.transfer_id,
        case_id=t.case_id,
        from_gmina=t.from_gmina,
        to_gmina=t.to_gmina,
        state=state or t.state,
    )


@router.post("/cases/{case_id}/transfer", status_code=201, response_model=TransferOut)
async def request_transfer(
    case_id: UUID,
    body: TransferIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = Staff,
) -> JSONResponse:
    """The family moved: ask the OPS of the gmina it moved to to take the case over. The case
    stays yours until that OPS accepts."""
    to = terc().gmina(body.to_gmina, field="to_gmina")
    request_hash = fingerprint(f"POST /cases/{case_id}/transfer", body)
    async with ctx.pool.acquire() as conn, conn.transaction():
        household = await _case_of_my_gmina(conn, case_id, principal, lock=True)
        if first := await replay(conn, principal, idempotency_key, request_hash):
            return first
        waiting = await files.waiting_transfer(conn, case_id)
        casefile.request_transfer(household.status, household.gmina.code, to, waiting)
        transfer = Transfer(
            uuid4(), case_id, household.gmina.code, to.code, TransferState.REQUESTED
        )
        await files.request_transfer(conn, transfer, principal.subject)
        await files.record_change(conn, case_id, "transfer_requested", household.status,
                                  principal.subject)  # fmt: skip
        await store.audit(conn, principal, case_id, household.gmina.code, "transfer_requested",
                          f"przekazanie do gminy {to.code}")  # fmt: skip
        out = _transfer_out(transfer)
        return await answer(conn, principal, idempotency_key, request_hash, 201, out)


async def _decide(
    ctx: ServiceContext,
    case_id: UUID,
    principal: Principal,
    key: str | None,
    state: TransferState,
) -> JSONResponse:
    """Accept or decline (the receiving gmina) or withdraw (the sending one) a transfer."""
    request_hash = fingerprint(f"POST /cases/{case_id}/transfer/{state}", None)
    async with ctx.pool.acquire() as conn, conn.transaction():
        if first := await replay(conn, principal, key, request_hash):
            return first
        household = await files.load_household(conn, case_id, lock=True)
        transfer = casefile.waiting_transfer(
            await files.waiting_transfer(conn, case_id) if household else None, case_id
        )
        assert household is not None  # a transfer references its case
        decider = transfer.from_gmina if state is TransferState.WITHDRAWN else transfer.to_gmina
        principal.require_gmina(decider)
        if state is TransferState.ACCEPTED:
            to = terc().gmina(transfer.to_gmina)
            event = casefile.accept_transfer(
                transfer, household.status, household.gmina, to, date.today()
            )
            pesels = [m.pesel for m in household.present if m.pesel]
            open_cases = await store.lock_open_cases_by_pesel(
                conn, to.code, pesels, other_than=case_id
            )
            if refused := domain.duplicate_case(to.code, pesels, open_cases, field="pesel"):
                raise refused
            # Whoever accepts it in the receiving gmina is responsible until reassigned.
            await files.move_to_gmina(conn, case_id, to.code, principal.subject, date.today())
            await outbox.add(conn, ctx.origin, event)
        await files.decide_transfer(conn, transfer.transfer_id, state, principal.subject)
        await files.record_change(conn, case_id, f"transfer_{state}", household.status,
                                  principal.subject)  # fmt: skip
        route = f"przekazanie z gminy {transfer.from_gmina} do {transfer.to_gmina}"
        await store.audit(conn, principal, case_id, decider, f"transfer_{state}", route)
        out = _transfer_out(transfer, state)
        return await answer(conn, principal, key, request_hash, 200, out)


@router.post("/cases/{case_id}/transfer/accept", response_model=TransferOut)
async def accept_transfer(
    case_id: UUID,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = Staff,
) -> JSONResponse:
    """The receiving OPS takes the case over: same case, its history kept, its gmina now;
    case.transferred.v1 lets reporting count the transfer."""
    return await _decide(ctx, case_id, principal, idempotency_key, TransferState.ACCEPTED)


@router.post("/cases/{case_id}/transfer/decline", response_model=TransferOut)
async def decline_transfer(
    case_id: UUID,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = Staff,
) -> JSONResponse:
    """The receiving OPS declines: the case stays with the sending one."""
    return await _decide(ctx, case_id, principal, idempotency_key, TransferState.DECLINED)


@router.post("/cases/{case_id}/transfer/withdraw", response_model=TransferOut)
async def withdraw_transfer(
    case_id: UUID,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = Staff,
) -> JSONResponse:
    """The sending OPS withdraws its request (the family did not move after all, or the case
    is to be closed): the case stays with it."""
    return await _decide(ctx, case_id, principal, idempotency_key, TransferState.WITHDRAWN)


@router.get("/transfers", response_model=list[WaitingTransferOut])
async def waiting_transfers(
    ctx: Ctx,
    gmina: Annotated[str | None, Query(pattern=r"^\d{7}$")] = None,
    principal: Principal = Staff,
) -> list[WaitingTransferOut]:
    """Transfers waiting, into your gmina (to accept or decline) or out of it: codes only."""
    code = _gmina_of(principal, gmina)
    async with ctx.pool.acquire() as conn:
        rows = await files.transfers_of(conn, code)
    return [
        WaitingTransferOut(**{k: v for k, v in r.items() if k != "state"},
                           direction="in" if r["to_gmina"] == code else "out")
        for r in rows
    ]  # fmt: skip


# --- the responsible caseworker ------------------------------------------------------------------


@router.post("/cases/{case_id}/assignment", response_model=AssignmentOut)
async def assign_case(
    case_id: UUID,
    body: AssignmentIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = Staff,
) -> JSONResponse:
    """Make a staff member the case's responsible caseworker (pracownik prowadzący): the
    gmina's caseworker or coordinator does. In the case's history and the audit log; staff
    data only, in intake only (no event)."""
    request_hash = fingerprint(f"POST /cases/{case_id}/assignment", body)
    async with ctx.pool.acquire() as conn, conn.transaction():
        household = await _case_of_my_gmina(conn, case_id, principal, lock=True)
        if first := await replay(conn, principal, idempotency_key, request_hash):
            return first
        previous, since = await files.assignment_of(conn, case_id)
        if casefile.reassign(previous, body.assignee):
            since = date.today()
            await files.assign(conn, case_id, body.assignee, since)
            await files.record_change(conn, case_id, "assigned", household.status,
                                      principal.subject)  # fmt: skip
            await store.audit(conn, principal, case_id, household.gmina.code, "assigned",
                              f"pracownik prowadzący: {previous} → {body.assignee}")  # fmt: skip
        out = AssignmentOut(
            case_id=case_id, assigned_to=body.assignee, assigned_on=since, previous=previous
        )
        return await answer(conn, principal, idempotency_key, request_hash, 200, out)


# --- the worklist -----------------------------------------------------------------------------


@router.get("/worklist", response_model=WorklistOut)
async def worklist(
    ctx: Ctx,
    gmina: Annotated[str | None, Query(pattern=r"^\d{7}$")] = None,
    mine: bool = False,
    horizon_days: Annotated[int, Query(ge=0, le=366)] = 14,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    principal: Principal = Staff,
) -> WorklistOut:
    """Due work of the gmina's open cases (`mine`: the cases assigned to you, as their
    responsible caseworker): transfers from
    other gminas to accept first, then soonest first the home interview within 14 days of
    opening, an interview update every six months, follow-ups asked for in notes, and of
    closed cases the family's follow-up 3 and 6 months after closing; overdue
    ones included; the first `limit` items (`limited` when there were more). Codes and
    dates only."""
    code = _gmina_of(principal, gmina)
    today = date.today()
    async with ctx.pool.acquire() as conn:
        due = await files.open_cases_due(conn, code, principal.subject if mine else None)
        transfers = await files.transfers_of(conn, code)
        closed = await evaluation_store.closed_cases_due(
            conn, code, principal.subject if mine else None, today
        )
    incoming = [
        casefile.WorkItem(t["case_id"], casefile.WorkKind.TRANSFER_TO_ACCEPT,
                          t["requested_at"].date(), overdue=False)
        for t in transfers if t["to_gmina"] == code
    ]  # fmt: skip
    after_closing = [
        casefile.WorkItem(f.case_id, casefile.WorkKind(f"follow_up_{f.months}_months"),
                          f.due_on, f.overdue)
        for f in evaluation.follow_ups_due([(c, r) for c, r, _ in closed], today, horizon_days)
    ]  # fmt: skip
    items = incoming + sorted(
        casefile.due_work(due, today, horizon_days) + after_closing,
        key=lambda i: (i.due_on, str(i.case_id), i.kind),
    )
    assignees = {c.case_id: c.assigned_to for c in due}
    assignees.update({c.case_id: assigned for c, _, assigned in closed})
    return WorklistOut(
        gmina=code,
        as_of=today,
        limited=len(items) > limit,
        items=[WorkItemOut(case_id=i.case_id, kind=i.kind, due_on=i.due_on, overdue=i.overdue,
                           assigned_to=assignees.get(i.case_id))
               for i in items[:limit]],
    )  # fmt: skip
