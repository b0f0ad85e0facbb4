"""The operator's page "Stan systemu": services, queues, consumers, outbox backlog and dead
letters, through the services' own operator APIs."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.web.session import SignedIn
from services.web.templating import render

router = APIRouter()


@router.get("/stan-systemu")
async def system_status(request: Request, session: SignedIn) -> Response:
    return render(request, "operator/status.html", {"rows": []})
