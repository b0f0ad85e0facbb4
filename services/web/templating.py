"""The Jinja2 environment every page renders with: Polish formats and labels as filters, the
signed-in person, the CSRF token and the navigation of their role."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from services.web import charts, formatting, labels
from services.web.forms import FormErrors, field_id
from services.web.session import csrf_token

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
env = templates.env
# Templates are compiled once per process: no stat of every template file on every render.
env.auto_reload = False
env.filters.update(
    date=formatting.as_date,
    datetime=formatting.as_datetime,
    number=formatting.as_number,
    percent=formatting.as_percent,
    field_id=field_id,
)
env.globals.update(
    labels=labels,
    label=labels.label,
    counted=formatting.counted,
    plural=formatting.plural,
    chart_figure=charts.figure,
)

# Each role's pages in the top navigation: (path, Polish name). Other roles' pages join here.
NAVIGATION: dict[str, list[tuple[str, str]]] = {
    "caseworker": [
        ("/moja-praca", "Moja praca"),
        ("/sprawy", "Sprawy"),
        ("/sprawy/nowa", "Nowa sprawa"),
        ("/przekazania", "Przekazania"),
        ("/zajecia", "Zajęcia grupowe"),
    ],
    "operator": [("/stan-systemu", "Stan systemu")],
    "team_member": [
        ("/diagnozy", "Diagnozy do uzupełnienia"),
        ("/zajecia", "Zajęcia grupowe"),
        ("/ankieta", "Ankieta zespołu"),
        ("/partnerstwo", "Partnerstwo"),
    ],
    "coordinator": [
        ("/pulpit", "Pulpit koordynatora"),
        ("/diagnozy", "Diagnozy"),
        ("/skierowania", "Skierowania"),
        ("/raporty", "Raporty"),
        ("/zajecia", "Zajęcia grupowe"),
        ("/ankieta", "Ankieta zespołu"),
        ("/partnerstwo", "Partnerstwo"),
        ("/spotkania", "Spotkania zespołu"),
    ],
    "institution_staff": [("/skierowania", "Skierowania")],
    "analyst": [("/raporty", "Raporty")],
}


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    errors: FormErrors | None = None,
) -> HTMLResponse:
    session = getattr(request.state, "session", None)
    role = session.role if session else None
    return templates.TemplateResponse(
        request,
        template,
        {
            "session": session,
            "navigation": NAVIGATION.get(role or "", []),
            "csrf_token": csrf_token(request),
            "errors": errors or FormErrors(),
            **(context or {}),
        },
        status_code=status,
    )
