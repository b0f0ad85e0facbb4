"""The partner team's pages (członek PZK, koordynator): "Diagnozy do uzupełnienia" — the team's
diagnoses waiting for input — and the diagnosis workspace: need areas with severity, notes and
recommended supports with priority; the coordinator completes and revises."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from services.web.client import Api, ApiProblem
from services.web.forms import FormErrors, from_problem
from services.web.labels import DIAGNOSIS_STATUS, NEED_AREAS, SUPPORT_TYPES
from services.web.pages import api_for
from services.web.plan_form import defaults, goal_rows, known_fields, plan_body, sent
from services.web.session import Session, SignedIn
from services.web.templating import render
from shared.teryt import terc

router = APIRouter()
PAGE_SIZE = 25
RECOMMENDATION_ROWS = 3  # rows of the form; an empty row is left out
PRIORITIES = [("1", "1 — pilne"), ("2", "2 — zwykłe"), ("3", "3 — gdy będzie możliwe")]
SEVERITIES = [("1", "1 — niska"), ("2", "2 — średnia"), ("3", "3 — wysoka")]
# What the workspace tells after a step, by the `zapisano` parameter of the redirect.
SAVED = {
    "ocena": "Ocena została dodana do diagnozy.",
    "zakonczona": "Diagnoza została zakończona. Rekomendacje trafią do instytucji.",
    "rewizja": "Rewizja diagnozy została zapisana.",
    "plan": "Plan (IPW) został uzgodniony. Wsparcie trafi do instytucji.",
}
OPS = "ośrodek pomocy społecznej (OPS)"


def gmina_name(code: str) -> str:
    register = terc()
    return register.gmina(code).name if code in register else code


@router.get("/diagnozy")
async def diagnoses(
    request: Request,
    session: SignedIn,
    stan: Annotated[str, Query()] = "open",
    strona: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    errors = FormErrors()
    if stan not in DIAGNOSIS_STATUS:
        errors.add("stan", "Wybierz stan z listy.")
        stan = "open"
    rows = await api_for(request, session).call(
        "GET",
        "diagnosis",
        "/diagnoses",
        params={"status": stan, "limit": PAGE_SIZE + 1, "offset": (strona - 1) * PAGE_SIZE},
    )
    mine = session.institution
    listed = [
        {
            **row,
            "gmina_name": gmina_name(row["gmina"]),
            "mine_assessed": mine is not None and mine in row["institutions_assessed"],
        }
        for row in rows[:PAGE_SIZE]
    ]
    return render(
        request,
        "team/diagnoses.html",
        {
            "diagnoses": listed,
            "state": stan,
            "state_options": list(DIAGNOSIS_STATUS.items()),
            "page": strona,
            "more": len(rows) > PAGE_SIZE,
            "show_mine": mine is not None,
        },
        errors=errors,
        status=422 if errors else 200,
    )


async def _workspace(
    request: Request,
    session: Session,
    api: Api,
    diagnosis_id: UUID,
    *,
    errors: FormErrors | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    diagnosis, plan = await asyncio.gather(
        api.call("GET", "diagnosis", f"/diagnoses/{diagnosis_id}"), _plan(api, diagnosis_id)
    )
    assessed_areas = [n["area"] for n in diagnosis["needs"]]
    coordinator = session.role == "coordinator"
    plannable = coordinator and diagnosis["status"] == "completed" and plan is None
    team, names = [], {}
    if coordinator and (plannable or plan):
        team, names = await _team(api, diagnosis["gmina"])
    goals = goal_rows(diagnosis) if plannable else []
    resent = form is not None and "agreed_on" in form
    plan_form = (form if resent else defaults(goals, date.today())) if plannable else {}
    return render(
        request,
        "team/diagnosis.html",
        {
            "d": diagnosis,
            "gmina_name": gmina_name(diagnosis["gmina"]),
            "coordinator": coordinator,
            "plan": plan,
            "plannable": plannable,
            "goals": goals,
            "plan_form": plan_form,
            "responsible_options": [("", OPS), *team],
            "institution_names": names,
            "ops": OPS,
            "need_options": list(NEED_AREAS.items()),
            "assessed_options": [(a, NEED_AREAS.get(a, a)) for a in assessed_areas],
            "support_options": list(SUPPORT_TYPES.items()),
            "priorities": PRIORITIES,
            "severities": SEVERITIES,
            "rows": range(RECOMMENDATION_ROWS),
            "form": form or {},
            "saved": SAVED.get(request.query_params.get("zapisano", "")),
        },
        errors=errors,
        status=status,
    )


async def _plan(api: Api, diagnosis_id: UUID) -> dict[str, Any] | None:
    """The agreed plan (IPW) of the diagnosis, or None while there is none."""
    try:
        plan: dict[str, Any] = await api.call("GET", "diagnosis", f"/diagnoses/{diagnosis_id}/plan")
    except ApiProblem as problem:
        if problem.status != 404:
            raise
        return None
    return plan


async def _team(api: Api, gmina: str) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """The institutions of the gmina's PZK (who may be responsible for a goal) as options, and
    every institution's name by id (the plan names the responsible one)."""
    institutions = await api.call("GET", "referrals", "/institutions")
    team = [
        (str(i["institution_id"]), i["name"])
        for i in institutions
        if gmina in i["partnership_gminas"]
    ]
    return team, {str(i["institution_id"]): i["name"] for i in institutions}


@router.get("/diagnozy/{diagnosis_id}")
async def workspace(request: Request, session: SignedIn, diagnosis_id: UUID) -> Response:
    return await _workspace(request, session, api_for(request, session), diagnosis_id)


def assessment_body(form: FormData) -> tuple[dict[str, Any], dict[str, str]]:
    """The API's assessment from the form, an empty recommendation row left out; and, since the
    API numbers only the rows sent, the form's row of each (`recommendations[0]` →
    `recommendations[2]`), so that an error is shown by the row it belongs to."""
    recommendations, rows = [], {}
    for i in range(RECOMMENDATION_ROWS):
        support = str(form.get(f"recommendations-{i}-support_type", ""))
        if support:
            rows[f"recommendations[{len(recommendations)}]"] = f"recommendations[{i}]"
            priority = str(form.get(f"recommendations-{i}-priority", "") or "2")
            recommendations.append({"support_type": support, "priority": priority})
    body: dict[str, Any] = {"notes": str(form.get("notes", "")), "recommendations": recommendations}
    for name in ("need_area", "severity"):
        if chosen := str(form.get(name, "")):
            body[name] = chosen  # left out when not chosen: the API names it as missing
    return body, rows


@router.post("/diagnozy/{diagnosis_id}/oceny")
async def add_assessment(request: Request, session: SignedIn, diagnosis_id: UUID) -> Response:
    form = await request.form()
    body, rows = assessment_body(form)
    api = api_for(request, session)
    try:
        await api.call("POST", "diagnosis", f"/diagnoses/{diagnosis_id}/assessments", json=body)
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        known = {"need_area", "severity", "notes"} | {
            f"recommendations-{i}-{f}"
            for i in range(RECOMMENDATION_ROWS)
            for f in ("support_type", "priority")
        }
        errors = from_problem(problem.problem, known, rename=rows)
        return await _workspace(
            request, session, api, diagnosis_id, errors=errors, form=dict(form), status=422
        )
    return RedirectResponse(f"/diagnozy/{diagnosis_id}?zapisano=ocena", status_code=303)


@router.post("/diagnozy/{diagnosis_id}/zakonczenie")
async def complete(request: Request, session: SignedIn, diagnosis_id: UUID) -> Response:
    api = api_for(request, session)
    try:
        await api.call("POST", "diagnosis", f"/diagnoses/{diagnosis_id}/complete")
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        errors = from_problem(problem.problem, known=set())
        return await _workspace(request, session, api, diagnosis_id, errors=errors, status=422)
    return RedirectResponse(f"/diagnozy/{diagnosis_id}?zapisano=zakonczona", status_code=303)


@router.post("/diagnozy/{diagnosis_id}/rewizja")
async def revise(request: Request, session: SignedIn, diagnosis_id: UUID) -> Response:
    form = await request.form()
    add = []
    if support := str(form.get("add-0-support_type", "")):
        added = {"support_type": support, "priority": str(form.get("add-0-priority", "") or "2")}
        if need := str(form.get("add-0-need_area", "")):
            added["need_area"] = need
        add.append(added)
    body = {"add": add, "remove": [str(v) for v in form.getlist("remove")]}
    api = api_for(request, session)
    try:
        await api.call("POST", "diagnosis", f"/diagnoses/{diagnosis_id}/revisions", json=body)
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        known = {"add-0-support_type", "add-0-need_area", "add-0-priority"}
        errors = from_problem(problem.problem, known)
        return await _workspace(
            request, session, api, diagnosis_id, errors=errors, form=dict(form), status=422
        )
    return RedirectResponse(f"/diagnozy/{diagnosis_id}?zapisano=rewizja", status_code=303)


@router.post("/diagnozy/{diagnosis_id}/plan")
async def agree_plan(request: Request, session: SignedIn, diagnosis_id: UUID) -> Response:
    """The plan (IPW) the family agreed to, from the coordinator's form: support starts."""
    form = await request.form()
    api = api_for(request, session)
    diagnosis = await api.call("GET", "diagnosis", f"/diagnoses/{diagnosis_id}")
    goals = goal_rows(diagnosis)
    body, rows = plan_body(form, goals)
    try:
        await api.call("POST", "diagnosis", f"/diagnoses/{diagnosis_id}/plan", json=body)
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        errors = from_problem(problem.problem, known_fields(goals), rename=rows)
        return await _workspace(
            request, session, api, diagnosis_id, errors=errors, form=sent(form, goals), status=422
        )
    return RedirectResponse(f"/diagnozy/{diagnosis_id}?zapisano=plan", status_code=303)
