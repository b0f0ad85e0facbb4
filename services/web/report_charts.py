"""The report page's charts, composed from reporting's answers (pure: no I/O).

Reporting withholds a figure by answering null and naming it in the row's `hidden`; a null that
is not named there has nothing to count (a share of no cases). The charts keep the two apart.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.web import labels
from services.web.charts import NO_DATA, WITHHELD, Chart, Kind, Reference, Series, Value

# The share of families whose plan ended successfully in the model's testing phase (2018–2021):
# 140 of 172 families in 30 rural gminas.
MODEL_SUCCESS_SHARE = 81.4
MODEL_REFERENCE = Reference("wynik pilotażu modelu: 81,4\u00a0%", MODEL_SUCCESS_SHARE)


@dataclass(frozen=True)
class Month:
    first: date
    last: date

    @property
    def label(self) -> str:
        return f"{self.first:%m.%Y}"


def months(start: date, end: date) -> list[Month]:
    """The calendar months from the one holding `start` to the one holding `end`."""
    found = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        last = calendar.monthrange(year, month)[1]
        found.append(Month(date(year, month, 1), date(year, month, last)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def value_of(row: Mapping[str, Any], name: str) -> Value:
    """A figure of a reporting row: the number, withheld, or nothing to count."""
    value = row.get(name)
    if value is not None:
        return float(value)
    return WITHHELD if name in row.get("hidden", ()) else NO_DATA


def cell_of(row: Mapping[str, Any], column: str) -> Value:
    """A count of a cross table's row (`cells`), withheld when the row's `hidden` names it."""
    value = row.get("cells", {}).get(column)
    if value is not None:
        return float(value)
    return WITHHELD if column in row.get("hidden", ()) else NO_DATA


def cases_over_time(per_month: Iterable[tuple[Month, Mapping[str, Any]]]) -> Chart:
    """Families taken into the model's work each month, from the indicators' total of each
    month (the period filter is on the day the case was opened)."""
    pairs = list(per_month)
    return Chart(
        slug="chart-cases-over-time",
        title="Rodziny objęte wsparciem w kolejnych miesiącach",
        kind=Kind.LINE,
        categories=tuple(m.label for m, _ in pairs),
        series=(
            Series(
                "sprawy otwarte w miesiącu", tuple(value_of(t, "cases_opened") for _, t in pairs)
            ),
        ),
        category_header="miesiąc",
    )


def supports_by_type(report: Mapping[str, Any]) -> Chart:
    """Supports by type, from the `supports` table's total row; types never given are left out,
    withheld ones are kept (and marked), largest first."""
    total = report.get("total", {})
    shown = []
    for column in report.get("columns", []):
        value = cell_of(total, column["key"])
        if value is WITHHELD or (isinstance(value, float) and value > 0):
            shown.append((labels.SUPPORT_TYPES.get(column["key"], column["key"]), value))
    shown.sort(key=lambda pair: -pair[1] if isinstance(pair[1], float) else 1)
    return Chart(
        slug="chart-supports-by-type",
        title="Wsparcie według rodzaju",
        kind=Kind.BAR,
        categories=tuple(name for name, _ in shown),
        series=(Series("liczba skierowań", tuple(v for _, v in shown)),),
        category_header="rodzaj wsparcia",
    )


def acceptance_by_sector(report: Mapping[str, Any]) -> Chart:
    """The share of referrals accepted, per sector of the institution (the table's own
    `acceptance_rate`, withheld with the counts it rests on)."""
    rows = report.get("rows", [])
    return Chart(
        slug="chart-acceptance-by-sector",
        title="Odsetek przyjętych skierowań według sektora instytucji",
        kind=Kind.BAR,
        categories=tuple(labels.SECTORS.get(r["key"], r["key"]) for r in rows),
        series=(Series("odsetek przyjętych", tuple(_rate(r) for r in rows)),),
        category_header="sektor",
        unit="%",
        decimals=1,
    )


def _rate(row: Mapping[str, Any]) -> Value:
    if row.get("acceptance_rate") is not None:
        return float(row["acceptance_rate"])
    # withheld when a count it rests on is; a sector with no referrals has nothing to count
    return WITHHELD if row.get("hidden") else NO_DATA


def success_share(indicators: Mapping[str, Any]) -> Chart:
    """The share of families whose plan ended successfully, per group and in total, against
    the model's 81.4 %."""
    rows = [*indicators.get("rows", []), indicators.get("total", {})]
    return Chart(
        slug="chart-success-share",
        title="Odsetek rodzin, których współpraca zakończyła się sukcesem",
        kind=Kind.BAR,
        categories=tuple(str(r.get("label") or r.get("key", "")) for r in rows),
        series=(
            Series(
                "odsetek zakończonych sukcesem", tuple(value_of(r, "success_share") for r in rows)
            ),
        ),
        category_header="obszar",
        unit="%",
        decimals=1,
        reference=MODEL_REFERENCE,
    )
