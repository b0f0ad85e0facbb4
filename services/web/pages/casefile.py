"""The caseworker's case-file pages (pracownik socjalny OPS), apart from the case page itself:
the household's changes (a person joins, one left, a correction), the environmental interview's
dated entries and the case notes (read only with a reason, audited by intake), a transfer to
another gmina's OPS and the transfers waiting ("Przekazania"), and the due work ("Moja praca").
Every rule is intake's; these pages only ask and show."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from services.web.client import Api, ApiProblem
from services.web.forms import FormErrors, from_problem
from services.web.labels import REASON_ORDER, REASONS, RELATIONS
from services.web.pages import api_for
from services.web.session import Session, SignedIn
from services.web.templating import render
from shared.access_reason import header_value
from shared.teryt import terc

router = APIRouter()

PERSON_FIELDS = ("first_name", "last_name", "birth_date", "sex", "relation", "pesel")
SEX_OPTIONS = [("F", "kobieta"), ("M", "mężczyzna")]


def _flash(request: Request, message: str, to: str) -> RedirectResponse:
    request.session["flash"] = message
    return RedirectResponse(to, status_code=303)


def _form(form: FormData) -> dict[str, str]:
    return {k: str(v).strip() for k, v in form.items()}


def _once(form: dict[str, str]) -> dict[str, str] | None:
    """The form's own Idempotency-Key (a hidden field made with the page), so that a form sent
    twice (a double click, back and resend) adds one person or one entry, not two."""
    key = form.get("key", "")
    return {"Idempotency-Key": key} if 8 <= len(key) <= 100 else None


async def _read(api: Api, case_id: UUID, what: str, reason: str) -> Any:
    """Intake's read of personal data with the reason, which intake audits."""
    return await api.call(
        "GET",
        "intake",
        f"/cases/{case_id}{what}",
        headers={"X-Access-Reason": header_value(reason)},
    )


def gmina_label(code: str) -> str:
    register = terc()
    if code not in register:
        return code
    g = register.gmina(code)
    return f"{g.name} ({g.kind}, powiat {g.powiat_name})"


# --- household: a person joins ------------------------------------------------------------------


def _member_page(
    request: Request,
    case_id: UUID,
    *,
    form: dict[str, str],
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "cases/member_new.html",
        {
            "case_id": case_id,
            "form": form,
            "sex_options": SEX_OPTIONS,
            "relation_options": list(RELATIONS.items()),
            "today": date.today().isoformat(),
            "key": form.get("key") or str(uuid4()),
        },
        errors=errors,
        status=status,
    )


def person_body(form: dict[str, str]) -> dict[str, Any]:
    """A person from the form as the API takes them; an empty field is left out (so the API
    names a missing one), except the names, sent empty to be named."""
    body: dict[str, Any] = {k: form.get(k, "") for k in ("first_name", "last_name")}
    body |= {k: form[k] for k in ("birth_date", "sex", "relation", "pesel") if form.get(k)}
    if form.get("phone"):
        body["contact"] = {"phone": form["phone"]}
    return body


@router.get("/sprawy/{case_id}/osoby/nowa")
async def new_member(request: Request, session: SignedIn, case_id: UUID) -> Response:
    await api_for(request, session).case_overview(case_id)  # the case is the person's to change
    return _member_page(request, case_id, form={"joined_on": date.today().isoformat()})


@router.post("/sprawy/{case_id}/osoby/nowa")
async def add_member(request: Request, session: SignedIn, case_id: UUID) -> Response:
    form = _form(await request.form())
    body = person_body(form)
    if form.get("joined_on"):
        body["joined_on"] = form["joined_on"]
    try:
        await api_for(request, session).call(
            "POST", "intake", f"/cases/{case_id}/members", json=body, headers=_once(form)
        )
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        known = {*PERSON_FIELDS, "contact-phone", "joined_on"}
        errors = from_problem(problem.problem, known, rename={"members": "first_name"})
        return _member_page(request, case_id, form=form, errors=errors, status=422)
    return _flash(request, "Nowa osoba została dodana do gospodarstwa.", f"/sprawy/{case_id}")


# --- household: correct a person or record that they left ---------------------------------------


async def _person_page(
    request: Request,
    session: Session,
    case_id: UUID,
    person_id: UUID,
    reason: str,
    *,
    form: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response:
    """One person of the household: their data (read with the reason given, audited), the
    correction form and the form recording that they left."""
    record = await _read(api_for(request, session), case_id, "", reason)
    person = next(
        (m for m in record["members"] if m["person_id"] == str(person_id) and not m["left_on"]),
        None,
    )
    if person is None:
        raise ApiProblem(404, {"code": "member_not_found"})
    shown = {k: str(person.get(k) or "") for k in PERSON_FIELDS}
    return render(
        request,
        "cases/person.html",
        {
            "case_id": case_id,
            "person": person,
            "reason": reason,
            "form": {**shown, "left_on": date.today().isoformat(), **(form or {})},
            "sex_options": SEX_OPTIONS,
            "relation_options": list(RELATIONS.items()),
        },
        errors=errors,
        status=status,
    )


def _reason(form: dict[str, str]) -> str:
    reason = form.get("access_reason", "")
    if not reason:
        raise ApiProblem(422, {"code": "access_reason_required", "field": "access_reason"})
    return reason


@router.post("/sprawy/{case_id}/osoby/{person_id}")
async def person(request: Request, session: SignedIn, case_id: UUID, person_id: UUID) -> Response:
    """Reached from the household table (after a reason was given there): a POST, so the
    reason never lands in an address."""
    form = _form(await request.form())
    return await _person_page(request, session, case_id, person_id, _reason(form))


@router.post("/sprawy/{case_id}/osoby/{person_id}/korekta")
async def correct_person(
    request: Request, session: SignedIn, case_id: UUID, person_id: UUID
) -> Response:
    """A correction with the checks of an opening; an emptied PESEL removes a wrong one."""
    form = _form(await request.form())
    reason = _reason(form)
    body: dict[str, Any] = {k: form.get(k) or None for k in PERSON_FIELDS}
    try:
        await api_for(request, session).call(
            "PATCH", "intake", f"/cases/{case_id}/members/{person_id}", json=body
        )
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        errors = from_problem(problem.problem, set(PERSON_FIELDS))
        return await _person_page(
            request, session, case_id, person_id, reason, form=form, errors=errors, status=422
        )
    return _flash(request, "Dane osoby zostały poprawione.", f"/sprawy/{case_id}")


@router.post("/sprawy/{case_id}/osoby/{person_id}/odejscie")
async def person_left(
    request: Request, session: SignedIn, case_id: UUID, person_id: UUID
) -> Response:
    form = _form(await request.form())
    reason = _reason(form)
    body = {"left_on": form["left_on"]} if form.get("left_on") else {}
    try:
        await api_for(request, session).call(
            "POST", "intake", f"/cases/{case_id}/members/{person_id}/left", json=body
        )
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        errors = from_problem(problem.problem, {"left_on"})
        return await _person_page(
            request,
            session,
            case_id,
            person_id,
            reason,
            form={"left_on": form.get("left_on", "")},
            errors=errors,
            status=422,
        )
    return _flash(request, "Odejście osoby z gospodarstwa zostało zapisane.", f"/sprawy/{case_id}")


# --- the reasons for assistance (art. 7) ---------------------------------------------------------


async def _reasons_page(
    request: Request,
    session: Session,
    case_id: UUID,
    *,
    chosen: list[str] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response:
    overview = await api_for(request, session).case_overview(case_id)
    return render(
        request,
        "cases/reasons.html",
        {
            "case": overview,
            "chosen": overview["reasons"] if chosen is None else chosen,
            "reason_options": [
                (code, f"art. 7 pkt {code} — {REASONS[code]}") for code in REASON_ORDER
            ],
        },
        errors=errors,
        status=status,
    )


@router.get("/sprawy/{case_id}/powody")
async def reasons_page(request: Request, session: SignedIn, case_id: UUID) -> Response:
    return await _reasons_page(request, session, case_id)


@router.post("/sprawy/{case_id}/powody")
async def revise_reasons(request: Request, session: SignedIn, case_id: UUID) -> Response:
    """The reasons as they stand now; intake tells reporting when they changed."""
    chosen = [str(v) for v in (await request.form()).getlist("reasons")]
    try:
        await api_for(request, session).call(
            "POST", "intake", f"/cases/{case_id}/reasons", json={"reasons": chosen}
        )
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        errors = from_problem(problem.problem, {"reasons"})
        return await _reasons_page(
            request, session, case_id, chosen=chosen, errors=errors, status=422
        )
    return _flash(request, "Powody przyznania pomocy zostały zmienione.", f"/sprawy/{case_id}")


# --- the interview's entries and the case notes -------------------------------------------------

ENTRIES = {
    # page: (API path, template, fields of the new entry, the flash after adding one)
    "wywiad": ("/interviews", "cases/interviews.html", ("conducted_on", "summary"),
               "Wpis wywiadu środowiskowego został zapisany."),
    "notatki": ("/notes", "cases/notes.html", ("noted_on", "text", "follow_up_on"),
                "Notatka została zapisana."),
}  # fmt: skip


async def _entries_page(
    request: Request,
    session: Session,
    case_id: UUID,
    page: str,
    *,
    entries: list[dict[str, Any]] | None = None,
    form: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response:
    overview = await api_for(request, session).case_overview(case_id)
    _, template, _, _ = ENTRIES[page]
    today = date.today().isoformat()
    return render(
        request,
        template,
        {
            "case": overview,
            "entries": entries,
            "form": {"conducted_on": today, "noted_on": today, **(form or {})},
            "me": session.subject,
            "flash": request.session.pop("flash", None),
            "key": (form or {}).get("key") or str(uuid4()),
        },
        errors=errors,
        status=status,
    )


async def _show_entries(request: Request, session: Session, case_id: UUID, page: str) -> Response:
    """The entries, read with a reason (intake audits the read)."""
    form = _form(await request.form())
    reason = form.get("access_reason", "")
    if not reason:
        errors = FormErrors()
        errors.add("access_reason", "Podaj powód wglądu w dane osobowe.")
        return await _entries_page(request, session, case_id, page, errors=errors, status=422)
    entries = await _read(api_for(request, session), case_id, ENTRIES[page][0], reason)
    return await _entries_page(request, session, case_id, page, entries=entries)


async def _add_entry(request: Request, session: Session, case_id: UUID, page: str) -> Response:
    path, _, fields, done = ENTRIES[page]
    form = _form(await request.form())
    body: dict[str, Any] = {f: form[f] for f in fields if form.get(f)}
    for text in ("summary", "text"):
        if text in fields:
            body.setdefault(text, "")  # sent empty: the API names it
    try:
        await api_for(request, session).call(
            "POST", "intake", f"/cases/{case_id}{path}", json=body, headers=_once(form)
        )
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        errors = from_problem(problem.problem, set(fields))
        return await _entries_page(
            request, session, case_id, page, form=form, errors=errors, status=422
        )
    return _flash(request, done, f"/sprawy/{case_id}/{page}")


@router.get("/sprawy/{case_id}/wywiad")
async def interviews(request: Request, session: SignedIn, case_id: UUID) -> Response:
    return await _entries_page(request, session, case_id, "wywiad")


@router.post("/sprawy/{case_id}/wywiad/wpisy")
async def show_interviews(request: Request, session: SignedIn, case_id: UUID) -> Response:
    return await _show_entries(request, session, case_id, "wywiad")


@router.post("/sprawy/{case_id}/wywiad")
async def add_interview(request: Request, session: SignedIn, case_id: UUID) -> Response:
    return await _add_entry(request, session, case_id, "wywiad")


@router.get("/sprawy/{case_id}/notatki")
async def notes(request: Request, session: SignedIn, case_id: UUID) -> Response:
    return await _entries_page(request, session, case_id, "notatki")


@router.post("/sprawy/{case_id}/notatki/wpisy")
async def show_notes(request: Request, session: SignedIn, case_id: UUID) -> Response:
    return await _show_entries(request, session, case_id, "notatki")


@router.post("/sprawy/{case_id}/notatki")
async def add_note(request: Request, session: SignedIn, case_id: UUID) -> Response:
    return await _add_entry(request, session, case_id, "notatki")
