"""The operator's page "Stan systemu": what `kooperacja status` shows (each service's
readiness, outbox backlog, queue depth and consumers, dead letters) and the dead letters to
inspect, replay or purge — all through the services' operator APIs."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from services.web.client import SERVICES, Api, ServiceDown
from services.web.formatting import counted
from services.web.pages import api_for
from services.web.session import SignedIn
from services.web.templating import render

router = APIRouter()


async def _one(api: Api, service: str) -> dict[str, Any]:
    """A service's row; a service that does not answer is a row saying so, not an error."""
    try:
        status, letters = await asyncio.gather(
            api.service_status(service), api.dead_letters(service)
        )
    except ServiceDown:
        return {"service": service, "down": True, "problems": [f"{service} nie odpowiada"]}
    problems = []
    if not status["ready"]:
        failing = ", ".join(k for k, ok in status["checks"].items() if not ok)
        problems.append(f"{service} nie jest gotowa ({failing or 'bez podanej przyczyny'})")
    queue, dead = status["queue"], status["dead_letter_queue"]
    if queue["messages"] is None:
        problems.append(f"brak kolejki usługi {service}")
    elif not queue["consumers"]:
        problems.append(f"nikt nie odbiera kolejki usługi {service}")
    if dead["messages"]:
        held = counted(dead["messages"], "wiadomość", "wiadomości", "wiadomości")
        problems.append(f"{held} w kolejce nieobsłużonych usługi {service}")
    return {**status, "down": False, "letters": letters, "problems": problems}


@router.get("/stan-systemu")
async def system_status(request: Request, session: SignedIn) -> Response:
    api = api_for(request, session)
    rows = await asyncio.gather(*(_one(api, s) for s in SERVICES))
    problems = [p for row in rows for p in row["problems"]]
    return render(
        request,
        "operator/status.html",
        {"rows": rows, "problems": problems, "flash": request.session.pop("flash", None)},
    )


@router.post("/stan-systemu/{service}/{action}")
async def dead_letter_action(
    request: Request,
    session: SignedIn,
    service: str,
    action: str,
    message_id: Annotated[str, Form()] = "",
) -> Response:
    if service not in SERVICES or action not in ("replay", "purge"):
        raise HTTPException(404)
    done = await api_for(request, session).dead_letter_action(service, action, message_id or None)
    count = counted(done["count"], "wiadomość", "wiadomości", "wiadomości")
    verb = "ponownie wysłano" if action == "replay" else "usunięto"
    request.session["flash"] = f"Usługa {service}: {verb} {count}."
    return RedirectResponse("/stan-systemu", status_code=303)
