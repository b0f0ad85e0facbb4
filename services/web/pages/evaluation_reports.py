"""The reports of the partnership's group activities and of its evaluation (analityk ROPS,
koordynator), under "Raporty": activities, sessions and hours, distinct participants by type;
the families' follow-ups after closing beside the success share and the model's testing-phase
figure; the members' survey. Reporting decides what this person may see, as on /raporty."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.web.client import ApiProblem
from services.web.forms import from_problem
from services.web.pages import api_for
from services.web.pages.reports import FORM_NAMES, GROUPINGS, filters_of
from services.web.session import SignedIn
from services.web.templating import render

router = APIRouter()

# The tables of the page, in order, with the figures each row carries beside its cells:
# (report, row figures as (field, header, "percent"|"hours"|"mean"|"number")).
TABLES: list[tuple[str, list[tuple[str, str, str]]]] = [
    ("activities", []),
    ("activity_sessions", [("hours", "godziny spotkań ogółem", "hours")]),
    ("activity_participants", []),
    (
        "follow_ups",
        [
            ("sustained_share_3", "utrzymana po 3 mies. (%)", "percent"),
            ("sustained_share_6", "utrzymana po 6 mies. (%)", "percent"),
            ("success_share", "zakończone sukcesem (%)", "percent"),
        ],
    ),
    ("follow_up_roles", []),
    ("survey_answers", [("mean", "średnia (1–5)", "mean")]),
    ("survey_responses", [("response_rate", "odsetek odpowiedzi (%)", "percent")]),
]


def _cell(value: Any, hidden: bool, kind: str) -> dict[str, Any]:
    return {"value": value, "withheld": value is None and hidden, "kind": kind}


def table_view(answer: dict[str, Any], extras: list[tuple[str, str, str]]) -> dict[str, Any]:
    """A reporting table as the page shows it: each cell a number, or withheld (never 0)."""
    columns = [(c["key"], c["label"]) for c in answer["columns"]]
    rows = []
    for line in (*answer["rows"], answer["total"]):
        hidden = set(line.get("hidden", ()))
        cells = [_cell(line["cells"].get(k), k in hidden, "number") for k, _ in columns]
        cells.append(_cell(line.get("total"), "total" in hidden, "number"))
        for field, _, kind in extras:
            value = line.get(field)
            if kind == "hours":
                value = (value or {}).get("total")
            # a derived figure is withheld with a count it rests on; else it has no data
            cells.append(_cell(value, bool(hidden), kind))
        rows.append({"label": line["label"], "cells": cells, "total": line["key"] == "total"})
    return {
        "name": answer["report"],
        "title": answer["title"],
        "headers": [label for _, label in columns] + ["ogółem"] + [h for _, h, _ in extras],
        "rows": rows,
        "counts": answer["definitions"].get("cells", ""),
        "reference": answer.get("reference"),
    }


@router.get("/raporty/ewaluacja")
async def evaluation_reports(request: Request, session: SignedIn) -> Response:
    filters, errors, context = filters_of(request, session)
    if errors:
        return render(request, "reports/evaluation.html", context, errors=errors, status=422)
    api = api_for(request, session)
    params = filters.api()
    try:
        answers = await asyncio.gather(
            *(api.call("GET", "reporting", f"/reports/{name}", params=params) for name, _ in TABLES)
        )
    except ApiProblem as problem:
        if problem.status != 422:
            raise
        errors = from_problem(problem.problem, set(FORM_NAMES.values()), rename=FORM_NAMES)
        return render(request, "reports/evaluation.html", context, errors=errors, status=422)
    tables = [table_view(a, extras) for a, (_, extras) in zip(answers, TABLES, strict=True)]
    context.update(
        tables=tables,
        withheld=any(a.get("suppression") for a in answers),
        grouping_name=dict(GROUPINGS)[filters.by],
    )
    return render(request, "reports/evaluation.html", context)
