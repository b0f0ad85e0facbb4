"""The caseworker's pages (pracownik socjalny OPS): "Sprawy" — the gmina's cases — a new case,
and the case page with its timeline, consent, sending to diagnosis, closing and reopening."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.web.forms import FormErrors
from services.web.labels import CASE_STATUS, REASON_ORDER, REASONS
from services.web.pages import api_for
from services.web.session import SignedIn
from services.web.templating import render

router = APIRouter()
PAGE_SIZE = 25
REASON_OPTIONS = [(code, f"art. 7 pkt {code} — {REASONS[code]}") for code in REASON_ORDER]


def _date_or_none(value: str, errors: FormErrors, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.add(field, "Podaj datę w postaci dd.mm.rrrr.")
        return None


@router.get("/sprawy")
async def cases(
    request: Request,
    session: SignedIn,
    status: Annotated[str, Query()] = "",
    powod: Annotated[str, Query()] = "",
    od: Annotated[str, Query()] = "",
    do: Annotated[str, Query()] = "",
    strona: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    errors = FormErrors()
    if status and status not in CASE_STATUS:
        errors.add("status", "Wybierz stan z listy.")
    if powod and powod not in REASONS:
        errors.add("powod", "Wybierz powód z listy.")
    opened_from = _date_or_none(od, errors, "od")
    opened_to = _date_or_none(do, errors, "do")
    if opened_from and opened_to and opened_from > opened_to:
        errors.add("od", "Data początkowa jest późniejsza niż końcowa.")
    found = []
    more = False
    if not errors:
        # One more than a page tells whether there is a next page without counting them all.
        found = await api_for(request, session).cases(
            status=status or None,
            reason=powod or None,
            opened_from=opened_from,
            opened_to=opened_to,
            limit=PAGE_SIZE + 1,
            offset=(strona - 1) * PAGE_SIZE,
        )
        more = len(found) > PAGE_SIZE
        found = found[:PAGE_SIZE]
    filters = {"status": status, "powod": powod, "od": od, "do": do}
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(
        request,
        "cases/list.html",
        {
            "cases": found,
            "filters": filters,
            "page": strona,
            "more": more,
            "query": query,
            "status_options": list(CASE_STATUS.items()),
            "reason_options": REASON_OPTIONS,
        },
        errors=errors,
        status=422 if errors else 200,
    )
