"""The start: each role lands on the page it lives on."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.web.session import SignedIn
from services.web.templating import render

router = APIRouter()

# Where each role starts; a role without pages yet gets the start page.
START: dict[str, str] = {
    "caseworker": "/sprawy",
    "operator": "/stan-systemu",
    "team_member": "/diagnozy",
    "coordinator": "/pulpit",
    "institution_staff": "/skierowania",
    "analyst": "/raporty",
}


@router.get("/")
async def start(request: Request, session: SignedIn) -> Response:
    if target := START.get(session.role):
        return RedirectResponse(target, status_code=303)
    return render(request, "start.html")
