"""The reports page (analityk ROPS, koordynator): "Raporty" by region, powiat, gmina and model
variant, for a period and as of a day; the model's indicators as a table, four charts each with
its data table, and CSV and XLSX downloads made by reporting with the person's own token.

Reporting decides what this person may see: an analyst's small counts come back withheld and
are shown as withheld; a filter beyond their scope comes back refused."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.web.client import Api, ApiProblem
from services.web.forms import FormErrors, from_problem
from services.web.pages import api_for
from services.web.report_charts import (
    Month,
    acceptance_by_sector,
    cases_over_time,
    months,
    success_share,
    supports_by_type,
)
from services.web.session import Session, SignedIn
from services.web.templating import render
from shared.teryt import terc

router = APIRouter()
GROUPINGS = [
    ("gmina", "gminy"),
    ("powiat", "powiaty"),
    ("region", "województwa"),
    ("variant", "warianty modelu"),
]
VARIANTS = [
    ("rural", "gminy wiejskie"),
    ("urban_rural", "gminy miejsko-wiejskie"),
    ("urban", "gminy miejskie"),
]
MONTHS_SHOWN = 12  # the chart of cases over time, without a period chosen
MONTHS_AT_MOST = 24
FORMATS = ("csv", "xlsx")
# The indicators table: (field, header); withheld figures are marked, never shown as 0.
INDICATOR_COLUMNS = [
    ("cases_opened", "rodziny objęte wsparciem"),
    ("cases_closed", "współpraca zakończona"),
    ("completed_successfully", "zakończone sukcesem"),
    ("success_share", "odsetek zakończonych sukcesem"),
    ("referrals", "skierowania"),
    ("referrals_accepted", "przyjęte"),
    ("acceptance_rate", "odsetek przyjętych"),
    ("referrals_overdue", "po terminie"),
    ("days_to_diagnosis_median", "dni do diagnozy (mediana)"),
    ("days_to_first_support_median", "dni do pierwszego wsparcia (mediana)"),
]
PERCENTAGES = {"success_share", "acceptance_rate"}
# The reporting API's names of the filters, and the form's.
FORM_NAMES = {
    "from": "od",
    "to": "do",
    "as_of": "stan_na",
    "by": "grupowanie",
    "variant": "wariant",
    "region": "region",
    "powiat": "powiat",
    "gmina": "gmina",
}


@dataclass
class Filters:
    """The form's filters, checked; `api()` gives reporting's query parameters."""

    region: str = ""
    powiat: str = ""
    gmina: str = ""
    variant: str = ""
    by: str = "gmina"
    opened_from: date | None = None
    opened_to: date | None = None
    as_of: date | None = None

    def api(self) -> dict[str, Any]:
        return {
            "region": self.region or None,
            "powiat": self.powiat or None,
            "gmina": self.gmina or None,
            "variant": self.variant or None,
            "by": self.by,
            "from": self.opened_from.isoformat() if self.opened_from else None,
            "to": self.opened_to.isoformat() if self.opened_to else None,
            "as_of": self.as_of.isoformat() if self.as_of else None,
        }

    def query(self) -> str:
        """The page's own query string (codes and dates only)."""
        values = {FORM_NAMES[k]: v for k, v in self.api().items() if v is not None}
        return urlencode(values)

    def period(self, today: date) -> list[Month]:
        """The months of the chart of cases over time."""
        end = self.opened_to or self.as_of or today
        start = self.opened_from or date(end.year - 1, end.month, 1)
        shown = months(start, end)
        return shown[-MONTHS_AT_MOST:] if self.opened_from else shown[-MONTHS_SHOWN:]


def _day(value: str, name: str, errors: FormErrors) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.add(name, "Podaj datę w postaci dd.mm.rrrr.")
        return None


def read_filters(params: dict[str, str], errors: FormErrors) -> Filters:
    register = terc()
    found = Filters()
    found.region = params.get("region", "")
    if found.region and not register.in_region(found.region):
        errors.add("region", "Wybierz województwo z listy.")
    found.powiat = params.get("powiat", "")
    if found.powiat and found.powiat not in _powiat_names():
        errors.add("powiat", "Wybierz powiat z listy.")
    found.gmina = params.get("gmina", "")
    if found.gmina and found.gmina not in register:
        errors.add("gmina", "Wybierz gminę z listy.")
    found.variant = params.get("wariant", "")
    if found.variant and found.variant not in dict(VARIANTS):
        errors.add("wariant", "Wybierz wariant z listy.")
    found.by = params.get("grupowanie", "") or "gmina"
    if found.by not in dict(GROUPINGS):
        errors.add("grupowanie", "Wybierz grupowanie z listy.")
        found.by = "gmina"
    found.opened_from = _day(params.get("od", ""), "od", errors)
    found.opened_to = _day(params.get("do", ""), "do", errors)
    found.as_of = _day(params.get("stan_na", ""), "stan_na", errors)
    if found.opened_from and found.opened_to and found.opened_from > found.opened_to:
        errors.add("od", "Data początkowa jest późniejsza niż końcowa.")
    return found


@cache
def _powiat_names() -> dict[str, str]:
    return {g.powiat: g.powiat_name for g in _all_gminas()}


@cache
def _all_gminas() -> tuple[Any, ...]:
    register = terc()
    codes = {f"{i:02d}" for i in range(2, 33, 2)}
    return tuple(g for region in sorted(codes) for g in register.in_region(region))


@cache
def _options(scope: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[Any]]:
    """(regions, powiats, gminas) a scope's filters offer; "" or "*" is every region."""
    regions = {r.strip() for r in scope.split(",") if r.strip() and r.strip() != "*"}
    gminas = [g for g in _all_gminas() if not regions or g.region in regions]
    region_options = sorted({(g.region, g.region_name) for g in gminas})
    powiat_options = sorted({(g.powiat, g.powiat_name) for g in gminas})
    return region_options, powiat_options, gminas


def filter_options(session: Session, filters: Filters) -> dict[str, Any]:
    scope = session.region or (session.powiat or session.gmina or "")[:2]
    regions, powiats, gminas = _options(scope)
    if session.powiat or session.gmina:
        prefix = session.gmina or session.powiat or ""
        powiats = [p for p in powiats if prefix.startswith(p[0]) or p[0].startswith(prefix)]
        gminas = [g for g in gminas if g.code.startswith(prefix)]
    if filters.powiat:
        gminas = [g for g in gminas if g.powiat == filters.powiat]
    elif len(gminas) > 300:
        gminas = []  # too many to list: a powiat is chosen first
    return {
        "region_options": regions,
        "powiat_options": powiats,
        "gmina_options": [(g.code, f"{g.name} ({g.kind})") for g in gminas],
        "grouping_options": GROUPINGS,
        "variant_options": VARIANTS,
    }


async def _month_totals(
    api: Api, filters: Filters, period: list[Month]
) -> list[tuple[Month, dict[str, Any]]]:
    """Each month's indicators total in one call to reporting's monthly series (each month's
    figures as /reports/indicators gives them for that month alone)."""
    if not period:
        return []
    params = {**filters.api(), "by": "region"}
    params["from"] = max(period[0].first, filters.opened_from or period[0].first).isoformat()
    params["to"] = min(period[-1].last, filters.opened_to or period[-1].last).isoformat()
    answer = await api.call("GET", "reporting", "/reports/indicators/monthly", params=params)
    totals = {m["month"]: m["total"] for m in answer["months"]}
    return [(month, totals[f"{month.first:%Y-%m}"]) for month in period]


def indicator_rows(indicators: dict[str, Any]) -> list[dict[str, Any]]:
    """Each row's figures as the table shows them: a number, or None with `withheld` set."""
    shown = []
    for row in (*indicators["rows"], indicators["total"]):
        hidden = set(row.get("hidden", ()))
        cells = []
        for name, _ in INDICATOR_COLUMNS:
            value = row.get(name)
            cells.append(
                {
                    "value": value,
                    "withheld": value is None and name in hidden,
                    "percent": name in PERCENTAGES,
                }
            )
        shown.append(
            {
                "label": row.get("label") or row.get("key"),
                "cells": cells,
                "total": row.get("key") == "total",
            }
        )
    return shown


def filters_of(request: Request, session: Session) -> tuple[Filters, FormErrors, dict[str, Any]]:
    """The report filters of the query, their errors, and the page's context with them."""
    errors = FormErrors()
    filters = read_filters(dict(request.query_params), errors)
    context: dict[str, Any] = {
        "filters": filters,
        "query": filters.query(),
        **filter_options(session, filters),
    }
    return filters, errors, context


@router.get("/raporty")
async def reports(request: Request, session: SignedIn) -> Response:
    filters, errors, context = filters_of(request, session)
    if errors:
        return render(request, "reports/index.html", context, errors=errors, status=422)
    api = api_for(request, session)
    params = filters.api()
    try:
        catalogue, indicators, supports, sectors, over_time = await asyncio.gather(
            api.call("GET", "reporting", "/reports"),
            api.call("GET", "reporting", "/reports/indicators", params=params),
            api.call("GET", "reporting", "/reports/supports", params={**params, "by": "region"}),
            api.call("GET", "reporting", "/reports/acceptance_by_sector", params=params),
            _month_totals(api, filters, filters.period(date.today())),
        )
    except ApiProblem as problem:
        if problem.status != 422:
            raise
        known = set(FORM_NAMES.values())
        errors = from_problem(problem.problem, known, rename=FORM_NAMES)
        return render(request, "reports/index.html", context, errors=errors, status=422)
    context.update(
        indicators=indicator_rows(indicators),
        indicator_columns=INDICATOR_COLUMNS,
        withheld=indicators.get("suppression") is not None,
        charts=[
            cases_over_time(over_time),
            supports_by_type(supports),
            acceptance_by_sector(sectors),
            success_share(indicators),
        ],
        downloads=catalogue["reports"],
        grouping_name=dict(GROUPINGS)[filters.by],
    )
    return render(request, "reports/index.html", context)


@router.get("/raporty/pobierz")
async def download(
    request: Request,
    session: SignedIn,
    raport: Annotated[str, Query(pattern=r"^[a-z_]{1,40}$")],
    format: Annotated[str, Query(pattern=r"^(csv|xlsx)$")],
) -> Response:
    """The file reporting makes for this person (withheld cells marked), passed on as it is."""
    errors = FormErrors()
    filters = read_filters(dict(request.query_params), errors)
    if errors:
        return render(
            request,
            "error.html",
            {
                "heading": "Nie udało się",
                "message": "Popraw filtry raportu i spróbuj ponownie.",
                "back": "/raporty",
                "back_text": "Wróć do raportów",
            },
            status=422,
        )
    content, media_type, disposition = await api_for(request, session).download(
        "reporting", f"/reports/{raport}", {**filters.api(), "format": format}
    )
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})
