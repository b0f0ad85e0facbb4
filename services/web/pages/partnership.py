"""The partnership (G-PZK) as pages: "Partnerstwo" (the agreement, members with their history,
representatives, roles, diagnostic team; the gmina's coordinator changes them, the gmina's
staff and the members' staff read them) and "Spotkania zespołu" (the coordinator records a
meeting: its day, agenda, who attended, the cases discussed, the decisions and the minutes; a
decision about a case shows on the case's timeline)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.web import labels
from services.web.client import Api, ApiProblem
from services.web.forms import FormErrors, from_problem
from services.web.pages import api_for
from services.web.session import Session, SignedIn
from services.web.templating import render

router = APIRouter()
SAVED = {
    "porozumienie": "Porozumienie zostało zapisane.",
    "czlonek": "Instytucja została przyjęta do partnerstwa.",
    "wystapienie": "Wystąpienie instytucji z partnerstwa zostało zapisane.",
    "przedstawiciel": "Przedstawiciel został dodany.",
    "koniec": "Przedstawiciel nie reprezentuje już instytucji; jego dane usunięto.",
    "rola": "Rola została przypisana.",
    "zespol": "Skład zespołu diagnostycznego został zapisany.",
    "spotkanie": "Spotkanie zostało zapisane.",
    "ustalenie": "Ustalenie zostało dopisane do spotkania.",
}
ROLE_OPTIONS = list(labels.PARTNERSHIP_ROLES.items())
DECISION_OPTIONS = list(labels.DECISION_KINDS.items())


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


async def _partnership(api: Api, gmina: str) -> dict[str, Any] | None:
    try:
        return await api.call("GET", "partnership", f"/partnerships/{gmina}")
    except ApiProblem as problem:
        if problem.status == 404:
            return None
        raise


async def _directory(api: Api, session: Session) -> list[dict[str, Any]]:
    """The institutions serving the gmina (referrals' directory), for the coordinator's forms."""
    if session.role != "coordinator":
        return []
    found = await api.call("GET", "referrals", "/institutions")
    gmina = session.gmina or ""
    return [
        i
        for i in found
        if i["active"] and (gmina in i["gminas"] or gmina[:4] in i.get("powiats", []))
    ]


async def _partnership_page(
    request: Request, session: Session, *, errors: FormErrors | None = None,
    form: dict[str, Any] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    api = api_for(request, session)
    gmina = session.gmina or ""
    partnership = await _partnership(api, gmina) if gmina else None
    directory = await _directory(api, session)
    names = {str(i["institution_id"]): i["name"] for i in directory}
    if partnership:
        for m in partnership["membership_history"]:
            names.setdefault(str(m["institution_id"]), m["name"] or "instytucja spoza katalogu")
    members = partnership["members"] if partnership else []
    return render(
        request,
        "partnership/partnership.html",
        {
            "partnership": partnership,
            "gmina": gmina,
            "names": names,
            "directory": directory,
            "members": members,
            "member_options": [(str(m["institution_id"]), names[str(m["institution_id"])])
                               for m in members],
            "outside_options": [(str(i["institution_id"]), i["name"]) for i in directory
                                if str(i["institution_id"]) not in
                                {str(m["institution_id"]) for m in members}],
            "role_options": ROLE_OPTIONS,
            "may_change": session.role == "coordinator",
            "today": date.today().isoformat(),
            "saved": SAVED.get(request.query_params.get("zapisano", "")),
            "form": form or {},
        },
        errors=errors,
        status=status,
    )  # fmt: skip


@router.get("/partnerstwo")
async def partnership(request: Request, session: SignedIn) -> Response:
    return await _partnership_page(request, session)


async def _change(
    request: Request,
    session: SignedIn,
    path: str,
    body: dict[str, Any],
    saved: str,
    known: set[str],
    rename: dict[str, str] | None = None,
) -> Response:
    try:
        await api_for(request, session).call(
            "POST", "partnership", f"/partnerships/{session.gmina}{path}", json=body
        )
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        errors = from_problem(problem.problem, known, rename)
        form = await request.form()
        kept = {k: form.getlist(k) if len(form.getlist(k)) > 1 else str(v) for k, v in form.items()}
        return await _partnership_page(request, session, errors=errors, form=kept, status=422)
    return RedirectResponse(f"/partnerstwo?zapisano={saved}", status_code=303)


@router.post("/partnerstwo/porozumienie")
async def record_agreement(request: Request, session: SignedIn) -> Response:
    form = await request.form()
    body = {
        "signed_on": str(form.get("signed_on", "")),
        "valid_from": str(form.get("valid_from", "")) or None,
        "valid_until": str(form.get("valid_until", "")) or None,
        "parties": [str(p) for p in form.getlist("parties")],
        "documents": _lines(str(form.get("documents", ""))),
    }
    known = {"signed_on", "valid_from", "valid_until", "parties", "documents"}
    return await _change(request, session, "/agreements", body, "porozumienie", known)


@router.post("/partnerstwo/czlonkowie")
async def add_member(request: Request, session: SignedIn) -> Response:
    form = await request.form()
    body = {
        "institution_id": str(form.get("institution_id", "")),
        "joined_on": str(form.get("joined_on", "")),
    }
    known = {"institution_id", "joined_on"}
    return await _change(request, session, "/members", body, "czlonek", known)


@router.post("/partnerstwo/czlonkowie/{institution_id}/wystapienie")
async def leave(request: Request, session: SignedIn, institution_id: UUID) -> Response:
    form = await request.form()
    body = {"left_on": str(form.get("left_on", ""))}
    path = f"/members/{institution_id}/leave"
    return await _change(request, session, path, body, "wystapienie", {"left_on"})


@router.post("/partnerstwo/przedstawiciele")
async def add_representative(request: Request, session: SignedIn) -> Response:
    form = await request.form()
    body = {
        "institution_id": str(form.get("rep_institution_id", "")),
        "name": str(form.get("name", "")),
        "function": str(form.get("function", "")),
        "email": str(form.get("email", "")),
    }
    known = {"rep_institution_id", "name", "function", "email"}
    rename = {"institution_id": "rep_institution_id"}
    return await _change(
        request, session, "/representatives", body, "przedstawiciel", known, rename
    )


@router.post("/partnerstwo/przedstawiciele/{representative_id}/koniec")
async def end_representative(
    request: Request, session: SignedIn, representative_id: UUID
) -> Response:
    path = f"/representatives/{representative_id}/end"
    return await _change(request, session, path, {}, "koniec", set())


@router.post("/partnerstwo/role")
async def assign_role(request: Request, session: SignedIn) -> Response:
    form = await request.form()
    body = {
        "role": str(form.get("role", "")),
        "institution_id": str(form.get("role_institution_id", "")),
        "since": str(form.get("since", "")) or None,
    }
    known = {"role", "role_institution_id", "since"}
    rename = {"institution_id": "role_institution_id"}
    return await _change(request, session, "/roles", body, "rola", known, rename)


@router.post("/partnerstwo/zespol-diagnostyczny")
async def diagnostic_team(request: Request, session: SignedIn) -> Response:
    form = await request.form()
    body = {"institutions": [str(i) for i in form.getlist("team")]}
    known = {"team"}
    return await _change(
        request, session, "/diagnostic-team", body, "zespol", known, {"institutions": "team"}
    )


# --- meetings ----------------------------------------------------------------------------------


async def _meetings_page(
    request: Request, session: Session, *, errors: FormErrors | None = None,
    form: dict[str, Any] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    api = api_for(request, session)
    gmina = session.gmina or ""
    partnership = await _partnership(api, gmina) if gmina else None
    meetings = (
        await api.call("GET", "partnership", f"/partnerships/{gmina}/meetings")
        if partnership
        else []
    )
    members = partnership["members"] if partnership else []
    return render(
        request,
        "partnership/meetings.html",
        {
            "partnership": partnership,
            "meetings": meetings,
            "member_options": [(str(m["institution_id"]), m["name"] or "instytucja spoza katalogu")
                               for m in members],
            "decision_options": DECISION_OPTIONS,
            "may_change": session.role == "coordinator" and partnership is not None,
            "today": date.today().isoformat(),
            "saved": SAVED.get(request.query_params.get("zapisano", "")),
            "form": form or {},
        },
        errors=errors,
        status=status,
    )  # fmt: skip


@router.get("/spotkania")
async def meetings(request: Request, session: SignedIn) -> Response:
    return await _meetings_page(request, session)


def _decision(form: Any, prefix: str = "") -> dict[str, Any] | None:
    kind = str(form.get(f"{prefix}kind", ""))
    if not kind:
        return None
    decision: dict[str, Any] = {
        "kind": kind,
        "case_id": str(form.get(f"{prefix}case_id", "")).strip() or None,
        "description": str(form.get(f"{prefix}description", "")),
    }
    if kind == "referral_agreed":
        decision["institution_id"] = str(form.get(f"{prefix}institution_id", "")) or None
    return decision


@router.post("/spotkania")
async def record_meeting(request: Request, session: SignedIn) -> Response:
    form = await request.form()
    decision = _decision(form, "decisions-0-")
    body = {
        "held_on": str(form.get("held_on", "")),
        "agenda": str(form.get("agenda", "")),
        "minutes": str(form.get("minutes", "")),
        "attendance": [str(i) for i in form.getlist("attendance")],
        "cases": _lines(str(form.get("cases", ""))),
        "decisions": [decision] if decision else [],
    }
    try:
        made = await api_for(request, session).call(
            "POST", "partnership", f"/partnerships/{session.gmina}/meetings", json=body
        )
    except ApiProblem as problem:
        if problem.status not in (404, 409, 422):
            raise
        known = {"held_on", "agenda", "minutes", "attendance", "cases"}
        known |= {f"decisions-0-{f}" for f in ("kind", "case_id", "institution_id", "description")}
        errors = from_problem(problem.problem, known)
        kept = {k: form.getlist(k) if len(form.getlist(k)) > 1 else str(v) for k, v in form.items()}
        return await _meetings_page(request, session, errors=errors, form=kept, status=422)
    return RedirectResponse(f"/spotkania/{made['meeting_id']}?zapisano=spotkanie", status_code=303)


async def _meeting_page(
    request: Request, session: Session, meeting_id: UUID, *,
    errors: FormErrors | None = None, form: dict[str, Any] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    api = api_for(request, session)
    meeting = await api.call("GET", "partnership", f"/meetings/{meeting_id}")
    names = {str(a["institution_id"]): a["name"] for a in meeting["attendance"]}
    partnership = await _partnership(api, meeting["gmina"])
    members = partnership["members"] if partnership else []
    for m in members:
        names.setdefault(str(m["institution_id"]), m["name"])
    return render(
        request,
        "partnership/meeting.html",
        {
            "meeting": meeting,
            "names": names,
            "member_options": [(str(m["institution_id"]), m["name"] or "instytucja spoza katalogu")
                               for m in members],
            "decision_options": DECISION_OPTIONS,
            "may_change": session.role == "coordinator" and session.gmina == meeting["gmina"],
            "saved": SAVED.get(request.query_params.get("zapisano", "")),
            "form": form or {},
        },
        errors=errors,
        status=status,
    )  # fmt: skip


@router.get("/spotkania/{meeting_id}")
async def meeting(request: Request, session: SignedIn, meeting_id: UUID) -> Response:
    return await _meeting_page(request, session, meeting_id)


@router.post("/spotkania/{meeting_id}/ustalenia")
async def add_decision(request: Request, session: SignedIn, meeting_id: UUID) -> Response:
    form = await request.form()
    body = _decision(form) or {"kind": ""}
    try:
        await api_for(request, session).call(
            "POST", "partnership", f"/meetings/{meeting_id}/decisions", json=body
        )
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        errors = from_problem(problem.problem, {"kind", "case_id", "institution_id", "description"})
        return await _meeting_page(
            request, session, meeting_id, errors=errors, form=dict(form), status=422
        )
    return RedirectResponse(f"/spotkania/{meeting_id}?zapisano=ustalenie", status_code=303)
