"""The individual support plan's pages (IPW) beyond its agreement: the plan as it stands with
each goal's reviews and every earlier version (for the gmina's caseworkers, its coordinator and
the PZK's members), its revision (goals and supports added or dropped) and a goal's review
(met, not met, in progress, with a date and a note) by the coordinator. Diagnosis keeps the
history and decides; these pages ask and show."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.web.client import Api, ApiProblem
from services.web.forms import FormErrors, from_problem
from services.web.labels import GOAL_RESULTS, NEED_AREAS, label
from services.web.pages import api_for
from services.web.pages.team import OPS, gmina_name
from services.web.plan_revision import (
    revision_body,
    revision_defaults,
    revision_fields,
    revision_rows,
    revision_sent,
)
from services.web.session import Session, SignedIn
from services.web.templating import render

router = APIRouter()
SAVED = {
    "rewizja": "Zmiany planu zostały zapisane. Dodane wsparcie trafi do instytucji, "
    "usunięte zostanie anulowane.",
    "przeglad": "Przegląd celu został zapisany.",
}


async def _institutions(api: Api, gmina: str) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """The gmina's PZK institutions as options and every institution's name by id; none for a
    reader who may not list institutions (the plan then says "instytucja z zespołu PZK")."""
    try:
        institutions = await api.call("GET", "referrals", "/institutions")
    except ApiProblem as problem:
        if problem.status != 403:
            raise
        return [], {}
    team = [
        (str(i["institution_id"]), i["name"])
        for i in institutions
        if gmina in i["partnership_gminas"]
    ]
    return team, {str(i["institution_id"]): i["name"] for i in institutions}


def responsible(goal: dict[str, Any], names: dict[str, str]) -> str:
    rid = goal.get("responsible_institution_id")
    if not rid:
        return OPS
    return names.get(str(rid), "instytucja z zespołu PZK")


@router.get("/diagnozy/{diagnosis_id}/plan")
async def plan_page(request: Request, session: SignedIn, diagnosis_id: UUID) -> Response:
    api = api_for(request, session)
    plan = await api.call("GET", "diagnosis", f"/diagnoses/{diagnosis_id}/plan")
    _, names = await _institutions(api, plan["gmina"])
    areas = {g["goal_id"]: g["area"] for v in plan["history"] for g in v["goals"]}
    return render(
        request,
        "team/plan.html",
        {
            "plan": plan,
            "gmina_name": gmina_name(plan["gmina"]),
            "names": names,
            "responsible": responsible,
            "areas": areas,
            "history": list(reversed(plan["history"])),
            "coordinator": session.role == "coordinator",
            "caseworker": session.role == "caseworker",
            "me": session.subject,
            "saved": SAVED.get(request.query_params.get("zapisano", "")),
        },
    )


# --- the revision -----------------------------------------------------------------------------


async def _revision_page(
    request: Request,
    session: Session,
    api: Api,
    diagnosis_id: UUID,
    *,
    form: Any = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response:
    plan, diagnosis, rows = await _revision_rows(api, diagnosis_id)
    team, _ = await _institutions(api, plan["gmina"])
    shown = revision_sent(form, rows) if form is not None else None
    return render(
        request,
        "team/plan_revision.html",
        {
            "plan": plan,
            "d": diagnosis,
            "rows": rows,
            "plan_form": shown or revision_defaults(plan, rows, date.today()),
            "responsible_options": [("", OPS), *team],
            "area_options": [(n["area"], label(NEED_AREAS, n["area"])) for n in diagnosis["needs"]],
        },
        errors=errors,
        status=status,
    )


async def _revision_rows(
    api: Api, diagnosis_id: UUID
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    plan = await api.call("GET", "diagnosis", f"/diagnoses/{diagnosis_id}/plan")
    diagnosis = await api.call("GET", "diagnosis", f"/diagnoses/{diagnosis_id}")
    return plan, diagnosis, revision_rows(plan, diagnosis)


@router.get("/diagnozy/{diagnosis_id}/plan/rewizja")
async def revision_page(request: Request, session: SignedIn, diagnosis_id: UUID) -> Response:
    return await _revision_page(request, session, api_for(request, session), diagnosis_id)


@router.post("/diagnozy/{diagnosis_id}/plan/rewizja")
async def revise(request: Request, session: SignedIn, diagnosis_id: UUID) -> Response:
    form = await request.form()
    api = api_for(request, session)
    _, _, rows = await _revision_rows(api, diagnosis_id)
    body, rename = revision_body(form, rows)
    try:
        await api.call("POST", "diagnosis", f"/diagnoses/{diagnosis_id}/plan/revisions", json=body)
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        errors = from_problem(problem.problem, revision_fields(rows), rename=rename)
        return await _revision_page(
            request, session, api, diagnosis_id, form=form, errors=errors, status=422
        )
    return RedirectResponse(f"/diagnozy/{diagnosis_id}/plan?zapisano=rewizja", status_code=303)


# --- a goal's review --------------------------------------------------------------------------


async def _review_page(
    request: Request,
    session: Session,
    diagnosis_id: UUID,
    goal_id: UUID,
    *,
    form: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response:
    api = api_for(request, session)
    plan = await api.call("GET", "diagnosis", f"/diagnoses/{diagnosis_id}/plan")
    goal = next((g for g in plan["goals"] if g["goal_id"] == str(goal_id)), None)
    if goal is None:
        raise ApiProblem(404, {"code": "goal_not_found"})
    _, names = await _institutions(api, plan["gmina"])
    return render(
        request,
        "team/goal_review.html",
        {
            "plan": plan,
            "goal": goal,
            "who": responsible(goal, names),
            "reviews": [r for r in plan["reviews"] if r["goal_id"] == str(goal_id)],
            "result_options": list(GOAL_RESULTS.items()),
            "form": {"reviewed_on": date.today().isoformat(), **(form or {})},
        },
        errors=errors,
        status=status,
    )


@router.get("/diagnozy/{diagnosis_id}/plan/cele/{goal_id}/przeglad")
async def review_page(
    request: Request, session: SignedIn, diagnosis_id: UUID, goal_id: UUID
) -> Response:
    return await _review_page(request, session, diagnosis_id, goal_id)


@router.post("/diagnozy/{diagnosis_id}/plan/cele/{goal_id}/przeglad")
async def review(
    request: Request, session: SignedIn, diagnosis_id: UUID, goal_id: UUID
) -> Response:
    form = {k: str(v).strip() for k, v in (await request.form()).items()}
    body = {k: form[k] for k in ("reviewed_on", "result") if form.get(k)}
    body["note"] = form.get("note", "")
    try:
        await api_for(request, session).call(
            "POST",
            "diagnosis",
            f"/diagnoses/{diagnosis_id}/plan/goals/{goal_id}/reviews",
            json=body,
        )
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        errors = from_problem(problem.problem, {"reviewed_on", "result", "note"})
        return await _review_page(
            request, session, diagnosis_id, goal_id, form=form, errors=errors, status=422
        )
    return RedirectResponse(f"/diagnozy/{diagnosis_id}/plan?zapisano=przeglad", status_code=303)
