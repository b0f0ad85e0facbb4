"""Report tables as people read them: labelled rows and columns, totals, and suppression of
small cells for those who may not see them (pure: no I/O)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.reporting.domain import share, suppress
from shared.codes import (
    DECLINE_REASON_LABELS,
    NEED_AREA_LABELS,
    REASON_LABELS,
    SECTOR_LABELS,
    SUPPORT_TYPE_LABELS,
    AgeBand,
    CaseOutcome,
    ModelVariant,
    Reason,
)
from shared.teryt import terc

OUTCOME_LABELS = {
    "open": "w toku",
    CaseOutcome.COMPLETED_SUCCESSFULLY: "zakończone sukcesem",
    CaseOutcome.COMPLETED_PARTLY: "zakończone częściowo",
    CaseOutcome.REFUSED_COOPERATION: "odmowa współpracy",
    CaseOutcome.MOVED_AWAY: "wyprowadzka",
    CaseOutcome.DIED: "zgon",
    CaseOutcome.TRANSFERRED: "przekazane",
    CaseOutcome.OTHER: "inne",
}
STATE_LABELS = {
    "assigned": "skierowane",
    "accepted": "przyjęte",
    "declined": "odrzucone",
    "completed": "zrealizowane",
    "cancelled": "anulowane",
}
VARIANT_LABELS = {
    ModelVariant.RURAL: "gminy wiejskie",
    ModelVariant.URBAN_RURAL: "gminy miejsko-wiejskie",
    ModelVariant.URBAN: "gminy miejskie",
}
HOUSEHOLD_SIZES = ("1", "2", "3", "4", "5", "6+")


@dataclass(frozen=True)
class ReportKind:
    title: str
    rows: str  # "place": by region/powiat/gmina/variant; "sector": by partner sector
    columns: Mapping[str, str]  # code -> label, in the order shown


def _labels(names: Mapping[Any, str]) -> dict[str, str]:
    """Columns by code, named as people read them (shared/codes.py)."""
    return {str(code): name for code, name in names.items()}


REPORTS: dict[str, ReportKind] = {
    "cases": ReportKind("Rodziny objęte wsparciem według stanu", "place", OUTCOME_LABELS),
    "referrals": ReportKind("Skierowania według stanu", "place", STATE_LABELS),
    "acceptance_by_sector": ReportKind(
        "Skierowania według sektora instytucji i stanu", "sector", STATE_LABELS
    ),
    "declines": ReportKind(
        "Odmowy przyjęcia skierowania według sektora i przyczyny",
        "sector",
        _labels(DECLINE_REASON_LABELS),
    ),
    "supports": ReportKind("Wsparcie według rodzaju", "place", _labels(SUPPORT_TYPE_LABELS)),
    "unmet_needs": ReportKind(
        "Potrzeby niezaspokojone (brak instytucji) według rodzaju wsparcia",
        "place",
        _labels(SUPPORT_TYPE_LABELS),
    ),
    "households": ReportKind(
        "Gospodarstwa domowe według liczby osób", "place", {s: s for s in HOUSEHOLD_SIZES}
    ),
    "age_bands": ReportKind("Osoby według grup wieku", "place", {str(b): str(b) for b in AgeBand}),
    "reasons": ReportKind(
        "Powody udzielenia pomocy (art. 7 ustawy o pomocy społecznej)",
        "place",
        {str(r): f"{r} {REASON_LABELS[r]}" for r in Reason},
    ),
    "needs": ReportKind("Obszary potrzeb z diagnozy", "place", _labels(NEED_AREA_LABELS)),
    "transfers": ReportKind(
        "Sprawy przekazane do OPS innej gminy (rodziny, które się przeprowadziły)",
        "place",
        {"out": "przekazane do innej gminy", "in": "przyjęte z innej gminy"},
    ),
    "cooperation": ReportKind(
        "Instytucje zaangażowane we współpracę według sektora", "place", _labels(SECTOR_LABELS)
    ),
}


def row_label(by: str, key: str) -> str:
    register = terc()
    if by == "sector":
        return SECTOR_LABELS.get(key, key)  # type: ignore[call-overload]
    if by == "variant":
        return VARIANT_LABELS.get(key, key)  # type: ignore[call-overload]
    if by == "gmina" and key in register:
        return register.gmina(key).name
    if by in {"powiat", "region"}:
        for g in register.in_region(key[:2]):
            if by == "region":
                return g.region_name
            if g.powiat == key:
                return g.powiat_name
    return key


@dataclass
class CrossTable:
    """Counts by row and column with their totals; `hidden` marks suppressed cells
    (column key, or "total" for the row total), whose values are withheld."""

    columns: dict[str, str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    total: dict[str, Any] = field(default_factory=dict)
    threshold: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "columns": [{"key": k, "label": v} for k, v in self.columns.items()],
            "rows": self.rows,
            "total": self.total,
            "suppression": ({"threshold": self.threshold, "sign": "#"} if self.threshold else None),
        }


def cross_table(
    cells: Sequence[Mapping[str, Any]],
    columns: Mapping[str, str],
    label_of: Any,
    *,
    threshold: int | None,
    withheld_totals: Iterable[str] = (),
) -> CrossTable:
    """Build the table from (row, col, n); with a threshold, suppress small cells and their
    complements so that none can be recovered from the totals. `withheld_totals` names rows
    ("total": the grand total) whose total another table publishing it withholds."""
    extra = sorted({str(c["col"]) for c in cells if str(c["col"]) not in columns})
    all_columns = {**columns, **{k: k for k in extra}}
    keys = list(all_columns)
    row_keys = sorted({str(c["row"]) for c in cells})
    counts = {(str(c["row"]), str(c["col"])): int(c["n"]) for c in cells}
    inner = [[counts.get((r, k), 0) for k in keys] for r in row_keys]
    hidden: set[tuple[int, int]] = set()
    grid_cells = [[*row, sum(row)] for row in inner]
    grid_cells.append([sum(r[c] for r in grid_cells) for c in range(len(keys) + 1)])
    if threshold is not None and inner:
        width = len(keys)
        positions = {key: r for r, key in enumerate(row_keys)} | {"total": len(row_keys)}
        withheld = [(positions[k], width) for k in withheld_totals if k in positions]
        grid = suppress(inner, threshold, withheld)
        grid_cells, hidden = grid.cells, grid.hidden

    def line(r: int) -> dict[str, Any]:
        values: dict[str, int | None] = {}
        hidden_here = []
        for c, k in enumerate(keys):
            if (r, c) in hidden:
                values[k] = None
                hidden_here.append(k)
            else:
                values[k] = grid_cells[r][c]
        total_hidden = (r, len(keys)) in hidden
        if total_hidden:
            hidden_here.append("total")
        return {
            "cells": values,
            "total": None if total_hidden else grid_cells[r][len(keys)],
            "hidden": hidden_here,
        }

    table = CrossTable(all_columns, threshold=threshold)
    for r, key in enumerate(row_keys):
        table.rows.append({"key": key, "label": label_of(key), **line(r)})
    table.total = {"key": "total", "label": "ogółem", **line(len(row_keys))}
    return table


# Counts of the indicators table and the figures derived from them: a derived figure is
# withheld when any count it rests on is.
INDICATOR_COUNTS = (
    "cases_opened",
    "cases_closed",
    "completed_successfully",
    "diagnosed",
    "supported",
    "referrals",
    "referrals_accepted",
    "referrals_declined",
    "referrals_overdue",
)
DERIVED = {
    "success_share": ("completed_successfully", "cases_opened"),
    "acceptance_rate": ("referrals_accepted", "referrals"),
    "days_to_diagnosis_median": ("diagnosed",),
    "days_to_diagnosis_p90": ("diagnosed",),
    "days_to_first_support_median": ("supported",),
    "days_to_first_support_p90": ("supported",),
}


INDICATOR_LABELS = {
    "key": "kod",
    "label": "nazwa",
    "cases_opened": "rodziny objęte wsparciem",
    "cases_closed": "współpraca zakończona",
    "completed_successfully": "zakończone sukcesem",
    "diagnosed": "z diagnozą",
    "supported": "z pierwszym wsparciem",
    "referrals": "skierowania",
    "referrals_accepted": "skierowania przyjęte",
    "referrals_declined": "skierowania odrzucone",
    "referrals_overdue": "skierowania po terminie",
    "success_share": "odsetek zakończonych sukcesem (%)",
    "acceptance_rate": "odsetek przyjętych skierowań (%)",
    "days_to_diagnosis_median": "dni do diagnozy (mediana)",
    "days_to_diagnosis_p90": "dni do diagnozy (90. percentyl)",
    "days_to_first_support_median": "dni od diagnozy do wsparcia (mediana)",
    "days_to_first_support_p90": "dni od diagnozy do wsparcia (90. percentyl)",
}


def add_row_figures(report: str, table: CrossTable) -> None:
    """Figures a row of some tables also carries: the acceptance rate of a sector's referrals
    (accepted or beyond), the number of sectors cooperating in a gmina. Withheld with the cells
    they rest on."""
    for line in (*table.rows, table.total):
        cells, total = line["cells"], line["total"]
        if report == "acceptance_by_sector":
            taken = [cells.get("accepted"), cells.get("completed")]
            line["acceptance_rate"] = (
                None if None in taken or total is None else share(sum(taken), total)  # type: ignore[arg-type]
            )
        elif report == "cooperation":
            line["sectors_engaged"] = (
                None if line["hidden"] else sum(1 for v in cells.values() if v)
            )


# Tables whose row totals count the same things (cases; referrals): a total withheld in one is
# withheld in the others, or it would be read off there.
SAME_TOTALS: tuple[tuple[str, ...], ...] = (("cases", "households"), ("referrals", "supports"))


def withheld_totals(table: CrossTable) -> set[str]:
    return {line["key"] for line in (*table.rows, table.total) if line["total"] is None}


def consistent_tables(
    cells: Mapping[str, Sequence[Mapping[str, Any]]],
    columns: Mapping[str, Mapping[str, str]],
    threshold: int | None,
) -> dict[str, CrossTable]:
    """Tables whose row totals count the same things, suppressed so that each withholds every
    total any of them withholds (repeated until stable: withholding only ever grows)."""
    withheld: set[str] = set()
    while True:
        tables = {
            name: cross_table(
                rows, columns[name], str, threshold=threshold, withheld_totals=withheld
            )
            for name, rows in cells.items()
        }
        now = set().union(*(withheld_totals(t) for t in tables.values()))
        if now == withheld:
            return tables
        withheld = now


def linked_to_cases(cases: CrossTable) -> dict[str, set[str]]:
    """Indicator counts that the cases table also publishes, per row key ("total" for the
    total), withheld wherever that table withholds them: else one would give the other away."""
    linked: dict[str, set[str]] = {}
    for line in (*cases.rows, cases.total):
        hidden = set(line["hidden"])
        fields = linked.setdefault(line["key"], set())
        if "total" in hidden:
            fields.add("cases_opened")
        if "completed_successfully" in hidden:
            fields.add("completed_successfully")
        if hidden - {"total"}:  # closed = total - open = the sum of the outcomes
            fields.add("cases_closed")
    return linked


def linked_to_referrals(referrals: CrossTable) -> dict[str, set[str]]:
    """The same for the referrals table (by state)."""
    linked: dict[str, set[str]] = {}
    for line in (*referrals.rows, referrals.total):
        hidden = set(line["hidden"])
        fields = linked.setdefault(line["key"], set())
        if "total" in hidden:
            fields |= {"referrals", "supports_assigned"}
        if "declined" in hidden:
            fields.add("referrals_declined")
        if hidden & {"accepted", "completed", "cancelled"}:
            fields.add("referrals_accepted")
    return linked


def suppress_indicators(
    rows: list[dict[str, Any]],
    total: dict[str, Any],
    threshold: int,
    counts: Sequence[str] = INDICATOR_COUNTS,
    linked: Mapping[str, set[str]] | None = None,
) -> None:
    """Withhold small counts per column (with a complement so the total does not give one
    away), the counts withheld in a linked table (`linked`: row key -> fields), and every
    figure derived from a withheld count or from fewer than `threshold`."""
    linked = linked or {}
    keys = [str(row.get("key", row.get("gmina"))) for row in rows]
    for name in counts:
        withheld = [(r, 0) for r, key in enumerate(keys) if name in linked.get(key, ())]
        if name in linked.get("total", ()):
            withheld.append((len(rows), 0))
        column = [[row[name]] for row in rows]
        grid = suppress(column, threshold, withheld) if rows else None
        for r, row in enumerate(rows):
            if grid is not None and (r, 0) in grid.hidden:
                row[name] = None
                row.setdefault("hidden", []).append(name)
        if grid is not None and (len(rows), 0) in grid.hidden:
            total[name] = None
            total.setdefault("hidden", []).append(name)
    for target in (*rows, total):
        for name, bases in DERIVED.items():
            denominator = target.get(bases[-1])
            withheld = any(target.get(b) is None for b in bases)
            if withheld or denominator is None or denominator < threshold:
                if target.get(name) is not None:
                    target[name] = None
                    target.setdefault("hidden", []).append(name)
