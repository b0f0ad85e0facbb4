"""The partnership's group activities and its members' survey, as pages: "Zajęcia grupowe" (a
club, a workshop cycle, training, coaching; the coordinator registers them and records their
sessions; the gmina's staff read them) and "Ankieta zespołu" (the coordinator opens and closes a
round, each representative answers once, results only of a closed round with enough answers).
Which members of a family take part is chosen on the case page (intake keeps it)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.web.client import Api, ApiProblem
from services.web.forms import FormErrors, from_problem
from services.web.pages import api_for
from services.web.session import Session, SignedIn
from services.web.templating import render
from shared.codes import ACTIVITY_TYPE_LABELS, LIKERT_SCALE

router = APIRouter()
ACTIVITY_TYPES = [(str(code), name) for code, name in ACTIVITY_TYPE_LABELS.items()]
TYPE_NAMES = dict(ACTIVITY_TYPES)
SAVED = {
    "zajecia": "Zajęcia zostały zapisane.",
    "spotkanie": "Spotkanie zostało zapisane.",
    "runda": "Runda ankiety została otwarta.",
    "odpowiedz": "Dziękujemy — Twoje odpowiedzi zostały zapisane anonimowo.",
    "zamknieta": "Runda ankiety została zamknięta.",
}


def _gmina(session: Session) -> str | None:
    return session.gmina


# --- group activities ------------------------------------------------------------------------


async def _activities_page(
    request: Request, session: Session, *, errors: FormErrors | None = None,
    form: dict[str, Any] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    api = api_for(request, session)
    gmina = _gmina(session)
    found = await api.call("GET", "partnership", "/activities", params={"gmina": gmina})
    return render(
        request,
        "activities/list.html",
        {
            "activities": [
                {**a, "type_name": TYPE_NAMES.get(a["activity_type"], "")} for a in found
            ],
            "type_options": ACTIVITY_TYPES,
            "may_change": session.role == "coordinator",
            "saved": SAVED.get(request.query_params.get("zapisano", "")),
            "form": form or {},
        },
        errors=errors,
        status=status,
    )


@router.get("/zajecia")
async def activities(request: Request, session: SignedIn) -> Response:
    return await _activities_page(request, session)


@router.post("/zajecia")
async def register_activity(request: Request, session: SignedIn) -> Response:
    form = await request.form()
    body = {
        "gmina": session.gmina or "",
        "activity_type": str(form.get("activity_type", "")),
        "title": str(form.get("title", "")),
        "started_on": str(form.get("started_on", "")),
    }
    try:
        made = await api_for(request, session).call("POST", "partnership", "/activities", json=body)
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        errors = from_problem(problem.problem, {"activity_type", "title", "started_on"})
        return await _activities_page(request, session, errors=errors, form=dict(form), status=422)
    return RedirectResponse(f"/zajecia/{made['activity_id']}?zapisano=zajecia", status_code=303)


async def _activity_page(
    request: Request, session: Session, activity_id: UUID, *,
    errors: FormErrors | None = None, form: dict[str, Any] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    api = api_for(request, session)
    activity = await api.call("GET", "partnership", f"/activities/{activity_id}")
    participants = await _participants(api, session, activity_id)
    return render(
        request,
        "activities/activity.html",
        {
            "activity": {**activity, "type_name": TYPE_NAMES.get(activity["activity_type"], "")},
            "participants": participants,
            "may_change": session.role == "coordinator",
            "saved": SAVED.get(request.query_params.get("zapisano", "")),
            "form": form or {},
        },
        errors=errors,
        status=status,
    )


async def _participants(api: Api, session: Session, activity_id: UUID) -> int | None:
    """How many persons take part, as intake counts them (None: not for this role, or intake
    does not know the activity yet)."""
    if session.role not in ("coordinator", "caseworker"):
        return None
    try:
        found = await api.call("GET", "intake", f"/activities/{activity_id}/participants")
    except ApiProblem as problem:
        if problem.status in (403, 404):
            return None
        raise
    return int(found["participants"])


@router.get("/zajecia/{activity_id}")
async def activity(request: Request, session: SignedIn, activity_id: UUID) -> Response:
    return await _activity_page(request, session, activity_id)


@router.post("/zajecia/{activity_id}/spotkania")
async def hold_session(request: Request, session: SignedIn, activity_id: UUID) -> Response:
    form = await request.form()
    hours = str(form.get("hours", "")).replace(",", ".").strip()
    try:
        minutes: Any = round(float(hours) * 60)
    except ValueError:
        minutes = hours  # partnership names the field
    body = {"held_on": str(form.get("held_on", "")), "minutes": minutes}
    try:
        await api_for(request, session).call(
            "POST", "partnership", f"/activities/{activity_id}/sessions", json=body
        )
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        errors = from_problem(problem.problem, {"held_on", "hours"}, rename={"minutes": "hours"})
        return await _activity_page(
            request, session, activity_id, errors=errors, form=dict(form), status=422
        )
    return RedirectResponse(f"/zajecia/{activity_id}?zapisano=spotkanie", status_code=303)


# --- the members' survey -----------------------------------------------------------------------


async def _survey_page(
    request: Request, session: Session, *, errors: FormErrors | None = None,
    form: dict[str, Any] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    api = api_for(request, session)
    questionnaire = await api.call("GET", "partnership", "/surveys/questions")
    rounds = await api.call(
        "GET", "partnership", "/surveys/rounds", params={"gmina": _gmina(session)}
    )
    still_open = next((r for r in rounds if r["closed_on"] is None), None)
    return render(
        request,
        "activities/survey.html",
        {
            "questions": questionnaire["questions"],
            "scale": sorted(LIKERT_SCALE.items()),
            "min_respondents": questionnaire["min_respondents"],
            "rounds": rounds,
            "open_round": still_open,
            "may_run": session.role == "coordinator",
            "saved": SAVED.get(request.query_params.get("zapisano", "")),
            "form": form or {},
        },
        errors=errors,
        status=status,
    )


@router.get("/ankieta")
async def survey(request: Request, session: SignedIn) -> Response:
    return await _survey_page(request, session)


async def _survey_step(
    request: Request, session: Session, path: str, body: dict[str, Any], saved: str,
    known: set[str],
) -> Response:  # fmt: skip
    try:
        await api_for(request, session).call("POST", "partnership", path, json=body)
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        errors = from_problem(problem.problem, known)
        form = {k: str(v) for k, v in (await request.form()).items()}
        return await _survey_page(request, session, errors=errors, form=form, status=422)
    return RedirectResponse(f"/ankieta?zapisano={saved}", status_code=303)


@router.post("/ankieta/rundy")
async def open_round(request: Request, session: SignedIn) -> Response:
    return await _survey_step(
        request, session, "/surveys/rounds", {"gmina": session.gmina or ""}, "runda",
        {"opened_on"},
    )  # fmt: skip


@router.post("/ankieta/{round_id}/odpowiedzi")
async def answer(request: Request, session: SignedIn, round_id: UUID) -> Response:
    """The representative's answers go to partnership as they are; this page keeps nothing."""
    form = await request.form()
    answers: dict[str, Any] = {}
    for name, value in form.items():
        if name.startswith("answers."):
            text = str(value)
            answers[name.removeprefix("answers.")] = int(text) if text.isdigit() else text
    known = {f"answers.{q}" for q in answers} | {"round_id"}
    return await _survey_step(
        request, session, f"/surveys/rounds/{round_id}/answers", {"answers": answers},
        "odpowiedz", known,
    )  # fmt: skip


@router.post("/ankieta/{round_id}/zamkniecie")
async def close_round(request: Request, session: SignedIn, round_id: UUID) -> Response:
    return await _survey_step(
        request, session, f"/surveys/rounds/{round_id}/close", {}, "zamknieta", {"closed_on"}
    )


# --- the family's members in group activities, on the case page --------------------------------


async def case_activities(api: Api, case: dict[str, Any], household: Any) -> dict[str, Any]:
    """For the case page once the household is shown: the gmina's activities, each with the
    case's members who take part (as intake knows them)."""
    if not household or case.get("status") == "closed":
        return {"case_activities": []}
    try:
        found = await api.call("GET", "partnership", "/activities", params={"gmina": case["gmina"]})
    except ApiProblem:
        return {"case_activities": []}
    shown = []
    for a in found:
        try:
            taking = await api.call("GET", "intake", f"/activities/{a['activity_id']}/participants")
        except ApiProblem:
            continue  # intake does not know it yet
        mine = {
            p for c in taking["cases"] if c["case_id"] == case["case_id"] for p in c["person_ids"]
        }
        shown.append({**a, "type_name": TYPE_NAMES.get(a["activity_type"], ""), "taking": mine})
    return {"case_activities": shown}


@router.post("/sprawy/{case_id}/zajecia/{activity_id}")
async def set_participants(
    request: Request, session: SignedIn, case_id: UUID, activity_id: UUID
) -> Response:
    """The case's members in the activity from now on (the whole set)."""
    form = await request.form()
    body = {"case_id": str(case_id), "person_ids": [str(p) for p in form.getlist("person_ids")]}
    try:
        await api_for(request, session).call(
            "POST", "intake", f"/activities/{activity_id}/participants", json=body
        )
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        errors = from_problem(problem.problem, set())
        request.session["flash"] = " ".join([*errors.general, *errors.fields.values()])
        return RedirectResponse(f"/sprawy/{case_id}", status_code=303)
    request.session["flash"] = "Uczestnicy zajęć zostali zapisani."
    return RedirectResponse(f"/sprawy/{case_id}", status_code=303)
