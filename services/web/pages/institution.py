"""The partner institution's pages (pracownik instytucji): "Skierowania" — the inbox with states
and deadlines — and a referral: accept it, decline it with a reason, record the support given
with its outcome, and read the household's minimal data while an accepted referral allows it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from services.web.client import Api, ApiProblem
from services.web.forms import FormErrors, from_problem
from services.web.labels import DECLINE_REASONS, SUPPORT_OUTCOMES
from services.web.pages import api_for
from services.web.pages.team import gmina_name
from services.web.session import Session, SignedIn
from services.web.templating import render

router = APIRouter()
PAGE_SIZE = 25
# The inbox's tabs: what waits for an answer first.
TABS = [
    ("assigned", "Do przyjęcia"),
    ("accepted", "W realizacji"),
    ("completed", "Zrealizowane"),
    ("declined", "Odrzucone"),
    ("cancelled", "Anulowane"),
]
SAVED = {
    "przyjete": "Skierowanie zostało przyjęte.",
    "odrzucone": "Skierowanie zostało odrzucone; trafi do innej instytucji.",
    "zrealizowane": "Realizacja wsparcia została zapisana.",
}


def deadline_of(referral: dict[str, Any]) -> tuple[str | None, str]:
    """The deadline that matters in the referral's state, and what it is for."""
    if referral["state"] == "assigned":
        return referral["accept_by"], "przyjęcie do"
    if referral["state"] == "accepted":
        return referral["complete_by"], "realizacja do"
    return None, ""


def overdue(referral: dict[str, Any], now: datetime) -> bool:
    deadline, _ = deadline_of(referral)
    return deadline is not None and datetime.fromisoformat(deadline) < now


def described(referral: dict[str, Any], now: datetime) -> dict[str, Any]:
    deadline, purpose = deadline_of(referral)
    return {
        **referral,
        "gmina_name": gmina_name(referral["gmina"]),
        "deadline": deadline,
        "deadline_purpose": purpose,
        "overdue": overdue(referral, now),
    }


@router.get("/skierowania")
async def inbox(
    request: Request,
    session: SignedIn,
    stan: Annotated[str, Query()] = "assigned",
    strona: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    if stan not in dict(TABS):
        stan = "assigned"
    rows = await api_for(request, session).call(
        "GET",
        "referrals",
        "/referrals",
        params={"state": stan, "limit": PAGE_SIZE + 1, "offset": (strona - 1) * PAGE_SIZE},
    )
    now = datetime.now(UTC)
    return render(
        request,
        "institution/inbox.html",
        {
            "referrals": [described(r, now) for r in rows[:PAGE_SIZE]],
            "tabs": TABS,
            "state": stan,
            "page": strona,
            "more": len(rows) > PAGE_SIZE,
        },
    )


async def _referral_page(
    request: Request,
    session: Session,
    api: Api,
    referral_id: UUID,
    *,
    errors: FormErrors | None = None,
    persons: list[dict[str, Any]] | None = None,
    persons_refused: str = "",
    status: int = 200,
) -> Response:
    referral = await api.call("GET", "referrals", f"/referrals/{referral_id}")
    return render(
        request,
        "institution/referral.html",
        {
            "r": described(referral, datetime.now(UTC)),
            "staff": session.role == "institution_staff",
            "decline_options": list(DECLINE_REASONS.items()),
            "outcome_options": list(SUPPORT_OUTCOMES.items()),
            "persons": persons,
            "persons_refused": persons_refused,
            "saved": SAVED.get(request.query_params.get("zapisano", "")),
        },
        errors=errors,
        status=status,
    )


@router.get("/skierowania/{referral_id}")
async def referral(request: Request, session: SignedIn, referral_id: UUID) -> Response:
    return await _referral_page(request, session, api_for(request, session), referral_id)


async def _answer(
    request: Request,
    session: Session,
    referral_id: UUID,
    step: str,
    body: dict[str, Any] | None,
    saved: str,
    known: set[str],
) -> Response:
    api = api_for(request, session)
    try:
        await api.call("POST", "referrals", f"/referrals/{referral_id}/{step}", json=body)
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        errors = from_problem(problem.problem, known)
        return await _referral_page(request, session, api, referral_id, errors=errors, status=422)
    return RedirectResponse(f"/skierowania/{referral_id}?zapisano={saved}", status_code=303)


@router.post("/skierowania/{referral_id}/przyjecie")
async def accept(request: Request, session: SignedIn, referral_id: UUID) -> Response:
    return await _answer(request, session, referral_id, "accept", None, "przyjete", set())


@router.post("/skierowania/{referral_id}/odmowa")
async def decline(
    request: Request, session: SignedIn, referral_id: UUID, reason: Annotated[str, Form()] = ""
) -> Response:
    body = {"reason": reason} if reason else {}
    return await _answer(request, session, referral_id, "decline", body, "odrzucone", {"reason"})


@router.post("/skierowania/{referral_id}/realizacja")
async def complete(
    request: Request, session: SignedIn, referral_id: UUID, outcome: Annotated[str, Form()] = ""
) -> Response:
    body = {"outcome": outcome} if outcome else {}
    return await _answer(
        request, session, referral_id, "complete", body, "zrealizowane", {"outcome"}
    )


@router.post("/skierowania/{referral_id}/dane-rodziny")
async def household(
    request: Request,
    session: SignedIn,
    referral_id: UUID,
    access_reason: Annotated[str, Form()] = "",
) -> Response:
    """The household's minimal data, read with a reason (intake audits it) and shown once, on
    this answer only: never in a URL, never kept by the web front."""
    api = api_for(request, session)
    errors = FormErrors()
    if not access_reason.strip():
        errors.add("access_reason", "Podaj powód wglądu w dane rodziny.")
        return await _referral_page(request, session, api, referral_id, errors=errors, status=422)
    found = await api.call("GET", "referrals", f"/referrals/{referral_id}")
    try:
        answer = await api.call(
            "GET",
            "intake",
            f"/cases/{found['case_id']}/persons",
            params={"reason": access_reason.strip()},
        )
    except ApiProblem as problem:
        if problem.status != 403:
            raise
        refused = (
            "Dane rodziny są dostępne tylko po przyjęciu skierowania, do czasu jego realizacji,"
            " i tylko w zakresie zgody rodziny."
        )
        return await _referral_page(
            request, session, api, referral_id, persons_refused=refused, status=403
        )
    return await _referral_page(request, session, api, referral_id, persons=answer["persons"])
