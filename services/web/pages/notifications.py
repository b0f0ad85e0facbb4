"""Each person's notifications (Powiadomienia): the inbox, a page at a time, unread ones marked;
opening one marks it read and goes where it points; the choice of what also comes by e-mail.
The unread count in the top navigation comes from `unread_count`, a dependency of every page of
the roles that have an inbox."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from services.web.client import ApiProblem, ServiceDown
from services.web.forms import FormErrors, from_problem
from services.web.pages import api_for
from services.web.session import Session, SignedIn
from services.web.templating import render

router = APIRouter()
PAGE_SIZE = 20
HAS_INBOX = {"caseworker", "coordinator", "institution_staff"}
# Where each kind of notification leads, from its ids.
TARGETS: dict[str, str] = {
    "referral_received": "/skierowania/{referral_id}",
    "referral_overdue": "/skierowania/{referral_id}",
    "diagnosis_waiting": "/pulpit",
    "support_unassignable": "/sprawy/{case_id}",
    "diagnosis_completed": "/sprawy/{case_id}",
    "support_completed": "/sprawy/{case_id}",
    "follow_up_due": "/sprawy/{case_id}",
}
KIND_NAMES: dict[str, str] = {
    "referral_received": "Nowe skierowanie do mojej instytucji",
    "referral_overdue": "Skierowanie po terminie",
    "diagnosis_waiting": "Diagnoza czeka na oceny członków zespołu",
    "support_unassignable": "Żadna instytucja nie może podjąć wsparcia",
    "diagnosis_completed": "Diagnoza sprawy zakończona",
    "support_completed": "Wsparcie zrealizowane",
    "follow_up_due": "Czas na badanie trwałości zmiany",
}


async def unread_count(request: Request) -> None:
    """The unread count for the navigation; a page never fails for want of it."""
    session: Session | None = getattr(request.state, "session", None)
    if session is None or session.role not in HAS_INBOX:
        return
    with contextlib.suppress(ApiProblem, ServiceDown):
        found = await api_for(request, session).call(
            "GET", "notifications", "/notifications", params={"unread": "true", "limit": 1}
        )
        request.state.unread = int(found["unread"])


def target_of(notification: dict[str, Any]) -> str:
    pattern = TARGETS.get(notification["kind"], "/powiadomienia")
    try:
        path = pattern.format(**notification)
    except KeyError:
        return "/powiadomienia"
    return "/powiadomienia" if "None" in path else path


@router.get("/powiadomienia")
async def inbox(
    request: Request,
    session: SignedIn,
    strona: Annotated[int, Query(ge=1, le=10_000)] = 1,
    nieprzeczytane: bool = False,
) -> Response:
    found = await api_for(request, session).call(
        "GET",
        "notifications",
        "/notifications",
        params={
            "limit": PAGE_SIZE,
            "offset": (strona - 1) * PAGE_SIZE,
            "unread": "true" if nieprzeczytane else None,
        },
    )
    request.state.unread = found["unread"]
    return render(
        request,
        "notifications/inbox.html",
        {
            "heading": "Powiadomienia",
            "items": found["items"],
            "total": found["total"],
            "unread": found["unread"],
            "page": strona,
            "more": strona * PAGE_SIZE < found["total"],
            "only_unread": nieprzeczytane,
        },
    )


@router.get("/powiadomienia/ustawienia")
async def preferences(request: Request, session: SignedIn, zapisano: bool = False) -> Response:
    found = await api_for(request, session).call("GET", "notifications", "/preferences")
    return _preferences_page(request, found, saved=zapisano)


def _preferences_page(
    request: Request,
    found: dict[str, Any],
    *,
    saved: bool = False,
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "notifications/preferences.html",
        {
            "heading": "Ustawienia powiadomień",
            "prefs": found,
            "kind_names": KIND_NAMES,
            "saved": saved,
        },
        errors=errors,
        status=status,
    )


@router.post("/powiadomienia/ustawienia")
async def save_preferences(
    request: Request,
    session: SignedIn,
    email: Annotated[str, Form()] = "",
    kinds: Annotated[list[str] | None, Form()] = None,
) -> Response:
    api = api_for(request, session)
    body = {"email": email.strip() or None, "email_kinds": kinds or []}
    try:
        await api.call("PUT", "notifications", "/preferences", json=body)
    except ApiProblem as problem:
        if problem.status != 422:
            raise
        current = await api.call("GET", "notifications", "/preferences")
        shown = {**current, "email": body["email"], "email_kinds": body["email_kinds"]}
        return _preferences_page(request, shown, errors=from_problem(problem.problem), status=422)
    return RedirectResponse("/powiadomienia/ustawienia?zapisano=1", status_code=303)


@router.get("/powiadomienia/{notification_id}")
async def open_notification(request: Request, session: SignedIn, notification_id: UUID) -> Response:
    """Reading it marks it read (the service does so); then where it points."""
    found = await api_for(request, session).call(
        "GET", "notifications", f"/notifications/{notification_id}"
    )
    return RedirectResponse(target_of(found), status_code=303)
