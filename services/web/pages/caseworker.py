"""The caseworker's pages (pracownik socjalny OPS): "Sprawy" — the gmina's cases — a new case,
and the case page with its timeline, consent, sending to diagnosis, closing and reopening."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID, uuid4

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from services.web import timeline
from services.web.client import Api, ApiProblem
from services.web.forms import FormErrors, from_problem
from services.web.labels import (
    CASE_OUTCOMES,
    CASE_STATUS,
    NOTIFIED_BY,
    REASON_ORDER,
    REASONS,
    RELATIONS,
    SECTORS,
)
from services.web.pages import api_for
from services.web.pages.follow_up import follow_up_body, follow_up_context
from services.web.pages.group_activities import case_activities
from services.web.pages.transfers import waiting_transfers
from services.web.session import Session, SignedIn
from services.web.templating import render

router = APIRouter()
PAGE_SIZE = 25
REASON_OPTIONS = [(code, f"art. 7 pkt {code} — {REASONS[code]}") for code in REASON_ORDER]


def _date_or_none(value: str, errors: FormErrors, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.add(field, "Podaj datę w postaci dd.mm.rrrr.")
        return None


@router.post("/sprawy/szukaj")
async def search(request: Request, session: SignedIn) -> Response:
    """Find a person of the gmina by surname or PESEL. A POST, so the terms (personal data)
    stay out of the address, the history and every log; intake audits the search."""
    form = await request.form()
    terms = {k: str(form.get(k, "")).strip() for k in ("surname", "pesel")}
    reason = str(form.get("reason", "")).strip()
    errors = FormErrors()
    found = None
    if not reason:
        errors.add("reason", "Podaj powód wyszukiwania.")
    if not any(terms.values()):
        errors.add("surname", "Podaj nazwisko lub numer PESEL.")
    if not errors:
        try:
            found = await api_for(request, session).search(terms, reason)
        except ApiProblem as problem:
            if problem.status != 422:
                raise
            errors = from_problem(problem.problem, {"surname", "pesel", "reason"})
    return await _cases_page(
        request,
        session,
        {},
        1,
        search_form=terms | {"reason": reason},
        found=found,
        search_errors=errors,
    )


@router.get("/sprawy")
async def cases(
    request: Request,
    session: SignedIn,
    status: Annotated[str, Query()] = "",
    powod: Annotated[str, Query()] = "",
    od: Annotated[str, Query()] = "",
    do: Annotated[str, Query()] = "",
    strona: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    filters = {"status": status, "powod": powod, "od": od, "do": do}
    return await _cases_page(request, session, filters, strona)


async def _cases_page(
    request: Request,
    session: Session,
    filters: dict[str, str],
    strona: int,
    *,
    search_form: dict[str, str] | None = None,
    found: dict[str, Any] | None = None,
    search_errors: FormErrors | None = None,
) -> Response:
    errors = FormErrors()
    status, powod, od, do = (filters.get(k, "") for k in ("status", "powod", "od", "do"))
    if status and status not in CASE_STATUS:
        errors.add("status", "Wybierz stan z listy.")
    if powod and powod not in REASONS:
        errors.add("powod", "Wybierz powód z listy.")
    opened_from = _date_or_none(od, errors, "od")
    opened_to = _date_or_none(do, errors, "do")
    if opened_from and opened_to and opened_from > opened_to:
        errors.add("od", "Data początkowa jest późniejsza niż końcowa.")
    listed = []
    more = False
    if not errors:
        # One more than a page tells whether there is a next page without counting them all.
        listed = await api_for(request, session).cases(
            status=status or None,
            reason=powod or None,
            opened_from=opened_from,
            opened_to=opened_to,
            limit=PAGE_SIZE + 1,
            offset=(strona - 1) * PAGE_SIZE,
        )
        more = len(listed) > PAGE_SIZE
        listed = listed[:PAGE_SIZE]
    if search_errors:
        errors.fields.update(search_errors.fields)
        errors.general += search_errors.general
    filters = {"status": status, "powod": powod, "od": od, "do": do}  # every key, for the form
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(
        request,
        "cases/list.html",
        {
            "cases": listed,
            "filters": filters,
            "page": strona,
            "more": more,
            "query": query,
            "status_options": list(CASE_STATUS.items()),
            "reason_options": REASON_OPTIONS,
            "search": search_form or {},
            "found": found,
        },
        errors=errors,
        status=422 if errors else 200,
    )


# --- a new case -------------------------------------------------------------------------------

MEMBER_FIELDS = ("first_name", "last_name", "birth_date", "sex", "relation", "pesel", "phone")
MAX_MEMBERS = 30


def _blank_member() -> dict[str, str]:
    return dict.fromkeys(MEMBER_FIELDS, "")


def _members_from(form: Any, count: int) -> list[dict[str, str]]:
    names = {f: f for f in MEMBER_FIELDS} | {"phone": "contact.phone"}
    return [
        {f: str(form.get(f"members[{i}].{names[f]}", "")).strip() for f in MEMBER_FIELDS}
        for i in range(count)
    ]


def case_body(form: Any, gmina: str, members: list[dict[str, str]]) -> dict[str, Any]:
    """POST /cases's body from the form: empty fields are left out, so the API names them."""
    body_members = []
    for m in members:
        if not any(m.values()):
            continue
        member: dict[str, Any] = {
            k: m[k] for k in ("first_name", "last_name", "birth_date", "sex") if m[k]
        }
        member["relation"] = m["relation"] or "head"
        if m["pesel"]:
            member["pesel"] = m["pesel"]
        if m["phone"]:
            member["contact"] = {"phone": m["phone"]}
        # first_name and last_name are required: an empty one is sent empty to be named.
        member.setdefault("first_name", "")
        member.setdefault("last_name", "")
        body_members.append(member)
    consent = str(form.get("consent_to_share", ""))
    body: dict[str, Any] = {
        "gmina": gmina,
        "members": body_members,
        "reasons": form.getlist("reasons"),
        "interview_summary": str(form.get("interview_summary", "")),
    }
    if form.get("notified_by"):
        body["notified_by"] = str(form.get("notified_by"))
    if consent in ("tak", "nie"):
        body["consent_to_share"] = consent == "tak"
    if consent == "tak":
        body["consent"] = {
            "given_on": str(form.get("consent.given_on", "")) or date.today().isoformat(),
            "scope": form.getlist("consent.scope"),
        }
    return body


def _new_case_page(
    request: Request,
    *,
    members: list[dict[str, str]],
    form: dict[str, Any],
    errors: FormErrors,
    status: int = 200,
) -> Response:
    return render(
        request,
        "cases/new.html",
        {
            "members": members,
            "form": form,
            "key": str(uuid4()),
            "reason_options": REASON_OPTIONS,
            "notified_options": list(NOTIFIED_BY.items()),
            "sector_options": list(SECTORS.items()),
            "relation_options": list(RELATIONS.items()),
            "today": date.today().isoformat(),
        },
        errors=errors,
        status=status,
    )


@router.get("/sprawy/nowa")
async def new_case(request: Request, session: SignedIn) -> Response:
    return _new_case_page(
        request,
        members=[_blank_member()],
        form={"reasons": [], "consent.scope": []},
        errors=FormErrors(),
    )


@router.post("/sprawy/nowa")
async def open_case(request: Request, session: SignedIn) -> Response:
    form = await request.form()
    count = min(max(int(str(form.get("member_count", "1")) or 1), 1), MAX_MEMBERS)
    members = _members_from(form, count)
    kept = {
        "reasons": form.getlist("reasons"),
        "consent.scope": form.getlist("consent.scope"),
        **{k: str(v) for k, v in form.items() if k not in ("reasons", "consent.scope")},
    }
    if form.get("action") == "add_member" and count < MAX_MEMBERS:
        return _new_case_page(
            request, members=[*members, _blank_member()], form=kept, errors=FormErrors()
        )
    if session.gmina is None:
        raise ApiProblem(403, {"code": "gmina_required"})
    body = case_body(form, session.gmina, members)
    try:
        opened = await api_for(request, session).open_case(body, str(form.get("key") or ""))
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        known = _new_case_controls(len(members))
        # Empty rows are left out of the body: an API member index is the n-th filled row.
        filled = [i for i, m in enumerate(members) if any(m.values())]
        rename = {f"members[{n}]": f"members[{i}]" for n, i in enumerate(filled) if n != i}
        errors = from_problem(problem.problem, known, rename)
        return _new_case_page(request, members=members, form=kept, errors=errors, status=422)
    request.session["flash"] = "Sprawa została otwarta."
    return RedirectResponse(f"/sprawy/{opened['case_id']}", status_code=303)


def _new_case_controls(count: int) -> set[str]:
    controls = {"members", "reasons", "notified_by", "interview_summary", "consent_to_share"}
    controls |= {"consent-given_on", "consent-scope", "consent"}
    for i in range(count):
        controls |= {f"members-{i}-{f}" for f in MEMBER_FIELDS if f != "phone"}
        controls.add(f"members-{i}-contact-phone")
    return controls


# --- the case page ----------------------------------------------------------------------------

OPEN_STATES = {"opened", "in_diagnosis", "in_support", "reopened"}


async def _case_page(
    request: Request,
    session: Session,
    case_id: UUID,
    *,
    errors: FormErrors | None = None,
    household: dict[str, Any] | None = None,
    status: int = 200,
    form: dict[str, Any] | None = None,
) -> Response:
    api = api_for(request, session)
    overview, work, transfers = await asyncio.gather(
        api.case_overview(case_id), api.case_work(case_id), _transfers(api)
    )
    waiting = [t for t in transfers if t["case_id"] == str(case_id) and t["direction"] == "out"]
    return render(
        request,
        "cases/case.html",
        {
            "case": overview,
            "timeline": timeline.compose(overview, work.diagnosis, work.referrals, work.decisions),
            "unavailable": work.unavailable,
            "household": household,
            "access_reason": (form or {}).get("access_reason", ""),
            "transfer": waiting[0] if waiting else None,
            "diagnosis": work.diagnosis,
            "me": session.subject,
            "flash": request.session.pop("flash", None),
            "is_open": overview["status"] in OPEN_STATES,
            "outcome_options": list(CASE_OUTCOMES.items()),
            "sector_options": list(SECTORS.items()),
            "today": date.today().isoformat(),
            "form": form or {},
            **await follow_up_context(api, overview),
            **await case_activities(api, overview, household),
        },
        errors=errors,
        status=status,
    )


async def _transfers(api: Api) -> list[dict[str, Any]]:
    """The gmina's transfers waiting (this case's, if any, is shown on its page); none for
    a reader without a gmina of their own."""
    try:
        return await waiting_transfers(api)
    except ApiProblem as problem:
        if problem.status not in (403, 422):
            raise
        return []


@router.get("/sprawy/{case_id}")
async def case_page(request: Request, session: SignedIn, case_id: UUID) -> Response:
    return await _case_page(request, session, case_id)


@router.post("/sprawy/{case_id}/gospodarstwo")
async def show_household(request: Request, session: SignedIn, case_id: UUID) -> Response:
    """Personal data only after a reason is given; intake writes the read to its audit log."""
    form = await request.form()
    reason = str(form.get("access_reason", "")).strip()
    errors = FormErrors()
    if not reason:
        errors.add("access_reason", "Podaj powód wglądu w dane osobowe.")
        return await _case_page(request, session, case_id, errors=errors, status=422)
    record = await api_for(request, session).case_record(case_id, reason)
    return await _case_page(
        request, session, case_id, household=record, form={"access_reason": reason}
    )


async def _step(
    request: Request,
    session: SignedIn,
    case_id: UUID,
    step: str,
    body: dict[str, Any] | None,
    done: str,
    known: set[str],
    rename: dict[str, str] | None = None,
) -> Response:
    try:
        await api_for(request, session).case_step(case_id, step, body)
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        errors = from_problem(problem.problem, known, rename)
        form = {k: str(v) for k, v in (await request.form()).items()}
        return await _case_page(request, session, case_id, errors=errors, status=422, form=form)
    request.session["flash"] = done
    return RedirectResponse(f"/sprawy/{case_id}", status_code=303)


@router.post("/sprawy/{case_id}/zgoda")
async def record_consent(request: Request, session: SignedIn, case_id: UUID) -> Response:
    form = await request.form()
    body = {"given_on": str(form.get("given_on", "")), "scope": form.getlist("scope")}
    return await _step(
        request,
        session,
        case_id,
        "consent",
        body,
        "Zgoda rodziny została zapisana.",
        {"given_on", "scope"},
        rename={"consent": "given_on"},
    )


@router.post("/sprawy/{case_id}/cofniecie-zgody")
async def withdraw_consent(request: Request, session: SignedIn, case_id: UUID) -> Response:
    """The family withdrew its consent (RODO art. 7 ust. 3): intake tells the other services."""
    form = await request.form()
    return await _step(
        request,
        session,
        case_id,
        "consent/withdrawal",
        {"withdrawn_on": str(form.get("withdrawn_on", ""))},
        "Cofnięcie zgody zostało zapisane.",
        {"withdrawn_on"},
    )


@router.post("/sprawy/{case_id}/do-diagnozy")
async def send_to_diagnosis(request: Request, session: SignedIn, case_id: UUID) -> Response:
    return await _step(
        request,
        session,
        case_id,
        "send-to-diagnosis",
        None,
        "Sprawa została skierowana do diagnozy PZK.",
        set(),
    )


@router.post("/sprawy/{case_id}/zamknij")
async def close_case(request: Request, session: SignedIn, case_id: UUID) -> Response:
    form = await request.form()
    body: dict[str, Any] = {"outcome": str(form.get("outcome", ""))}
    if form.get("closed_on"):
        body["closed_on"] = str(form.get("closed_on"))
    return await _step(
        request,
        session,
        case_id,
        "close",
        body,
        "Sprawa została zamknięta.",
        {"outcome", "closed_on"},
    )


@router.post("/sprawy/{case_id}/kontrola")
async def record_follow_up(request: Request, session: SignedIn, case_id: UUID) -> Response:
    """The family's follow-up 3 or 6 months after the case closed."""
    return await _step(
        request,
        session,
        case_id,
        "follow-ups",
        follow_up_body(await request.form()),
        "Kontrola sytuacji rodziny została zapisana.",
        {"months", "sustained", "roles", "recorded_on"},
    )


@router.post("/sprawy/{case_id}/prowadzacy")
async def assign(request: Request, session: SignedIn, case_id: UUID) -> Response:
    """The responsible caseworker (pracownik prowadzący): taken over by the person signed in,
    or handed to another member of the gmina's staff by their identifier."""
    form = await request.form()
    mine = form.get("action") == "me"
    assignee = session.subject if mine else str(form.get("assignee", "")).strip()
    return await _step(
        request,
        session,
        case_id,
        "assignment",
        {"assignee": assignee},
        "Prowadzisz teraz tę sprawę." if mine else "Pracownik prowadzący został zmieniony.",
        {"assignee"},
    )


@router.post("/sprawy/{case_id}/wznow")
async def reopen_case(request: Request, session: SignedIn, case_id: UUID) -> Response:
    return await _step(
        request, session, case_id, "reopen", None, "Sprawa została wznowiona.", set()
    )
