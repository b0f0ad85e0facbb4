"""The page an e-mailed link opens for a partner institution without an account (no sign-in):
the referral in codes and dates, and its answers — accept, decline with a reason, record the
support given — posted with the form's CSRF token and passed to referrals with the link's token,
which checks it, records the answer and audits it. The token is in this page's address, never
any personal data."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from services.web.client import ServiceDown
from services.web.forms import FormErrors, from_problem
from services.web.labels import DECLINE_REASONS, SUPPORT_OUTCOMES
from services.web.pages.team import gmina_name
from services.web.templating import render

router = APIRouter()
GONE = {
    "link_expired": "Termin ważności odnośnika minął.",
    "link_used": "Odpowiedź na to skierowanie została już zapisana; odnośnik nie działa ponownie.",
    "link_outdated": "Skierowanie nie jest już przypisane do Państwa instytucji.",
}
SAVED = {
    "przyjete": "Skierowanie zostało przyjęte. Po udzieleniu wsparcia zapiszą Państwo jego "
    "wynik przez ten sam odnośnik.",
    "odrzucone": "Odmowa została zapisana; skierowanie trafi do innej instytucji.",
    "zrealizowane": "Realizacja wsparcia została zapisana. Dziękujemy.",
}


async def _call(
    request: Request, method: str, path: str, token: str, json: Any = None
) -> httpx.Response:
    settings = request.app.state.settings
    headers = {"X-Referral-Link": token}
    if method == "POST":
        headers["Idempotency-Key"] = str(uuid.uuid4())
    try:
        return await request.app.state.http.request(
            method,
            f"{settings.base_url('referrals')}/api/v1/referral-link{path}",
            headers=headers,
            json=json,
        )
    except httpx.HTTPError as exc:
        raise ServiceDown("referrals") from exc


def _refused(request: Request, response: httpx.Response) -> Response:
    code = response.json().get("code", "") if response.content else ""
    return render(
        request,
        "referral_link/refused.html",
        {
            "heading": "Odnośnik nie działa",
            "message": GONE.get(code, "Odnośnik jest nieprawidłowy."),
        },
        status=410 if response.status_code == 410 else 403,
    )


async def _page(
    request: Request, token: str, *, errors: FormErrors | None = None, status: int = 200
) -> Response:
    response = await _call(request, "GET", "", token)
    if response.status_code in (401, 410):
        return _refused(request, response)
    if response.status_code >= 400:
        raise ServiceDown("referrals")
    referral = response.json()
    return render(
        request,
        "referral_link/referral.html",
        {
            "heading": "Skierowanie do Państwa instytucji",
            "referral": referral,
            "gmina_name": gmina_name(referral["gmina"]),
            "token": token,
            "reasons": DECLINE_REASONS,
            "outcomes": SUPPORT_OUTCOMES,
            "saved": SAVED.get(request.query_params.get("zapisano", "")),
        },
        errors=errors,
        status=status,
    )


@router.get("/odpowiedz/{token}")
async def referral(request: Request, token: str) -> Response:
    return await _page(request, token)


async def _answer(
    request: Request, token: str, path: str, body: dict[str, Any] | None, saved: str
) -> Response:
    response = await _call(request, "POST", path, token, json=body)
    if response.status_code in (401, 410):
        return _refused(request, response)
    if response.status_code >= 400:
        problem = response.json() if response.content else {}
        return await _page(request, token, errors=from_problem(problem), status=422)
    return RedirectResponse(f"/odpowiedz/{token}?zapisano={saved}", status_code=303)


@router.post("/odpowiedz/{token}/przyjecie")
async def accept(request: Request, token: str) -> Response:
    return await _answer(request, token, "/accept", None, "przyjete")


@router.post("/odpowiedz/{token}/odmowa")
async def decline(request: Request, token: str, reason: Annotated[str, Form()] = "") -> Response:
    return await _answer(request, token, "/decline", {"reason": reason}, "odrzucone")


@router.post("/odpowiedz/{token}/realizacja")
async def complete(request: Request, token: str, outcome: Annotated[str, Form()] = "") -> Response:
    return await _answer(request, token, "/complete", {"outcome": outcome}, "zrealizowane")
