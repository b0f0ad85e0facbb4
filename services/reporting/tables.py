"""Report tables as people read them: labelled rows and columns, totals, protected for those
who may not see them exactly (pure: no I/O)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.reporting.disclosure import (
    MAX_NOISE,
    SUPPRESSED_MARK,
    protect,
    protected_quantile,
    withheld_up_to,
)
from services.reporting.disclosure import share as protected_share
from services.reporting.domain import share
from shared.codes import (
    ACTIVITY_TYPE_LABELS,
    DECLINE_REASON_LABELS,
    FAMILY_ROLE_LABELS,
    LIKERT_SCALE,
    NEED_AREA_LABELS,
    REASON_LABELS,
    SECTOR_LABELS,
    SUPPORT_TYPE_LABELS,
    SURVEY_QUESTION_LABELS,
    TESTING_PHASE_FAMILIES,
    TESTING_PHASE_SUCCESSFUL,
    AgeBand,
    CaseOutcome,
    GoalResult,
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


# The answer of an institution to a referral, as of the day: what the acceptance rate rests on.
ANSWER_LABELS = {
    "accepted": "przyjęte",
    "declined": "odrzucone",
    "unanswered": "bez odpowiedzi",
}

# One definition of each derived figure, used by every report that publishes it and printed in
# its answer (`definitions`) and in the README.
SUCCESS_SHARE = (
    "zakończone sukcesem ÷ współpraca zakończona (completed_successfully ÷ cases_closed): "
    "odsetek rodzin, których wsparcie się zakończyło, z wynikiem „zakończone sukcesem”; "
    "sprawy w toku się nie liczą"
)
ACCEPTANCE_RATE = (
    "skierowania przyjęte ÷ skierowania z odpowiedzią (referrals_accepted ÷ "
    "referrals_answered): skierowanie przyjęte liczy się jako przyjęte także po anulowaniu lub "
    "realizacji; z odpowiedzią = przyjęte albo odrzucone; bez odpowiedzi się nie liczy"
)


# The model's testing phase, the reference a region compares its gminas with.
TESTING_PHASE = {
    "label": "faza testowania modelu (2018–2021)",
    "completed_successfully": TESTING_PHASE_SUCCESSFUL,
    "families": TESTING_PHASE_FAMILIES,
    "success_share": share(TESTING_PHASE_SUCCESSFUL, TESTING_PHASE_FAMILIES),
}
SUSTAINED_SHARE = (
    "sytuacja utrzymana ÷ kontrole po {m} miesiącach ({m}_sustained ÷ ({m}_sustained + "
    "{m}_not_sustained)): odsetek rodzin, których sytuacja po {m} miesiącach od zamknięcia "
    "sprawy jest utrzymana"
)
FOLLOW_UP_COLUMNS = {
    "3_sustained": "po 3 miesiącach: sytuacja utrzymana",
    "3_not_sustained": "po 3 miesiącach: sytuacja nieutrzymana",
    "6_sustained": "po 6 miesiącach: sytuacja utrzymana",
    "6_not_sustained": "po 6 miesiącach: sytuacja nieutrzymana",
}


@dataclass(frozen=True)
class ReportKind:
    title: str
    # "place": by region/powiat/gmina/variant; "sector": by partner sector; "question": by the
    # survey's question
    rows: str
    columns: Mapping[str, str]  # code -> label, in the order shown
    counts: str  # what one unit of a cell is, in Polish, for the answer's `definitions`
    derived: Mapping[str, str] = field(default_factory=dict)  # row figure -> its definition

    def definitions(self) -> dict[str, str]:
        return {
            "cells": self.counts,
            "total": "liczba różnych jednostek wiersza lub kolumny (nie suma komórek)",
            **self.derived,
        }


def _labels(names: Mapping[Any, str]) -> dict[str, str]:
    """Columns by code, named as people read them (shared/codes.py)."""
    return {str(code): name for code, name in names.items()}


REPORTS: dict[str, ReportKind] = {
    "cases": ReportKind(
        "Rodziny objęte wsparciem według stanu", "place", OUTCOME_LABELS,
        "rodziny (sprawy) według stanu na koniec dnia: w toku albo wynik ostatniego zamknięcia",
    ),
    "referrals": ReportKind(
        "Skierowania według stanu", "place", STATE_LABELS,
        "skierowania (każda próba: odrzucone i skierowane ponownie to dwa) według stanu",
    ),
    "acceptance_by_sector": ReportKind(
        "Skierowania według sektora instytucji i odpowiedzi", "sector", ANSWER_LABELS,
        "skierowania według odpowiedzi instytucji: przyjęte (kiedykolwiek), odrzucone, "
        "bez odpowiedzi",
        {"acceptance_rate": ACCEPTANCE_RATE},
    ),
    "declines": ReportKind(
        "Odmowy przyjęcia skierowania według sektora i przyczyny", "sector",
        _labels(DECLINE_REASON_LABELS), "skierowania odrzucone według przyczyny",
    ),
    "supports": ReportKind(
        "Wsparcie według rodzaju", "place", _labels(SUPPORT_TYPE_LABELS),
        "wsparcie: rekomendacje z diagnozy, które trafiły do instytucji (odrzucenie i ponowne "
        "skierowanie to nadal jedno wsparcie)",
    ),
    "unmet_needs": ReportKind(
        "Potrzeby niezaspokojone (brak instytucji) według rodzaju wsparcia", "place",
        _labels(SUPPORT_TYPE_LABELS), "rekomendacje, których żadna instytucja nie mogła przyjąć",
    ),
    "households": ReportKind(
        "Gospodarstwa domowe według liczby osób", "place", {s: s for s in HOUSEHOLD_SIZES},
        "rodziny według liczby osób w gospodarstwie domowym",
    ),
    "age_bands": ReportKind(
        "Osoby według grup wieku", "place", {str(b): str(b) for b in AgeBand},
        "osoby z gospodarstw domowych według grupy wieku w dniu otwarcia sprawy",
    ),
    "reasons": ReportKind(
        "Powody udzielenia pomocy (art. 7 ustawy o pomocy społecznej)", "place",
        {str(r): f"{r} {REASON_LABELS[r]}" for r in Reason},
        "rodziny według powodu (rodzina z kilkoma powodami w każdej z tych kolumn)",
    ),
    "needs": ReportKind(
        "Obszary potrzeb z diagnozy", "place", _labels(NEED_AREA_LABELS),
        "rodziny z diagnozą według obszaru potrzeb (rodzina w każdym swoim obszarze)",
    ),
    "transfers": ReportKind(
        "Sprawy przekazane do OPS innej gminy (rodziny, które się przeprowadziły)", "place",
        {"out": "przekazane do innej gminy", "in": "przyjęte z innej gminy"},
        "sprawy przekazane: z gminy, którą rodzina opuściła, i do gminy, do której przybyła",
    ),
    "cooperation": ReportKind(
        "Instytucje zaangażowane we współpracę według sektora", "place",
        _labels(SECTOR_LABELS),
        "różne instytucje, które oceniały w diagnozie lub przyjęły skierowanie; instytucja "
        "działająca w kilku gminach liczy się raz w każdej sumie",
        {"sectors_engaged": "liczba sektorów z co najmniej jedną instytucją"},
    ),
    "plans": ReportKind(
        "Indywidualne plany wsparcia (IPW) uzgodnione z rodzinami", "place",
        {"with_contract": "z kontraktem socjalnym", "without_contract": "bez kontraktu socjalnego"},
        "plany uzgodnione z rodzinami do dnia: z kontraktem socjalnym podpisanym do tego dnia "
        "albo bez niego",
    ),
    "goals": ReportKind(
        "Cele planów wsparcia według obszaru potrzeb", "place", _labels(NEED_AREA_LABELS),
        "cele planów w planie na koniec dnia (cel usunięty przy aktualizacji planu się nie "
        "liczy) według obszaru potrzeb",
    ),
    "goal_reviews": ReportKind(
        "Cele planów wsparcia według wyniku przeglądu", "place",
        {
            GoalResult.MET: "osiągnięte",
            GoalResult.NOT_MET: "nieosiągnięte",
            GoalResult.IN_PROGRESS: "w trakcie realizacji",
            "not_reviewed": "bez przeglądu",
        },
        "te same cele według wyniku ostatniego przeglądu (liczy się tylko ostatni przegląd "
        "celu; przegląd późniejszy niż dzień raportu: bez przeglądu)",
    ),
    "meetings": ReportKind(
        "Spotkania partnerskich zespołów kooperacji (PZK)", "place",
        {"held": "spotkania odbyte", "attendances": "obecności instytucji",
         "cases_discussed": "sprawy omówione"},
        "spotkania zespołów odbyte do dnia; obecności instytucji (instytucja raz na spotkaniu); "
        "różne sprawy omawiane na spotkaniach (sprawa raz, choćby na kilku spotkaniach). "
        "Kolumny liczą różne rzeczy: suma wiersza nie jest wskaźnikiem",
        {"institutions_per_meeting": "obecności instytucji ÷ spotkania odbyte: ile instytucji "
                                     "średnio uczestniczyło w spotkaniu (z pokazanych liczb)"},
    ),
    "meeting_sectors": ReportKind(
        "Sektory obecne na spotkaniach zespołów PZK", "place", _labels(SECTOR_LABELS),
        "spotkania zespołów, na których był obecny dany sektor (spotkanie raz w każdym sektorze "
        "obecnych instytucji)",
        {"sectors_engaged": "liczba sektorów obecnych na co najmniej jednym spotkaniu"},
    ),
    "activities": ReportKind(
        "Zajęcia grupowe według rodzaju", "place", _labels(ACTIVITY_TYPE_LABELS),
        "zajęcia grupowe zespołu (klub, cykl warsztatów, szkolenie, coaching) rozpoczęte do dnia",
    ),
    "activity_sessions": ReportKind(
        "Spotkania zajęć grupowych według rodzaju zajęć", "place", _labels(ACTIVITY_TYPE_LABELS),
        "spotkania (sesje) zajęć grupowych odbyte do dnia",
        {"hours": "godziny spotkań według rodzaju zajęć; pokazane tylko przy pokazanej liczbie "
                  "spotkań"},
    ),
    "activity_participants": ReportKind(
        "Uczestnicy zajęć grupowych według rodzaju zajęć", "place", _labels(ACTIVITY_TYPE_LABELS),
        "różne osoby (członkowie rodzin) uczestniczące w zajęciach danego rodzaju na koniec dnia; "
        "osoba w dwóch zajęciach jednego rodzaju liczy się raz, w zajęciach dwóch rodzajów - w "
        "każdym; okres (od, do) ich nie dotyczy",
    ),
    "follow_ups": ReportKind(
        "Trwałość efektów: kontrola sytuacji rodzin po 3 i 6 miesiącach od zamknięcia",
        "place", FOLLOW_UP_COLUMNS,
        "kontrole sytuacji rodzin po zamknięciu sprawy (okres: dzień zamknięcia) według wyniku",
        {
            "sustained_share_3": SUSTAINED_SHARE.format(m=3),
            "sustained_share_6": SUSTAINED_SHARE.format(m=6),
            "success_share": SUCCESS_SHARE,
            "reference": "faza testowania modelu: 140 ze 172 rodzin zakończyło współpracę "
            "sukcesem (81,4%)",
        },
    ),
    "follow_up_roles": ReportKind(
        "Role, które rodziny znów pełnią (ostatnia kontrola po zamknięciu)", "place",
        _labels(FAMILY_ROLE_LABELS),
        "rodziny według ról pełnionych ponownie, z ich ostatniej kontroli po zamknięciu sprawy "
        "(rodzina w każdej swojej roli)",
    ),
    "survey_answers": ReportKind(
        "Ankieta członków zespołu: odpowiedzi na pytania", "question",
        {str(v): f"{v} {label}" for v, label in LIKERT_SCALE.items()},
        "odpowiedzi przedstawicieli instytucji na każde pytanie w skali 1-5; rundy z zbyt małą "
        "liczbą odpowiedzi nie są publikowane wcale",
        {"mean": "średnia odpowiedź (1-5), pokazana tylko, gdy odpowiedzi jest co najmniej tyle, "
                 "ile wynosi próg"},
    ),
    "survey_responses": ReportKind(
        "Ankieta członków zespołu: udział w rundach", "place",
        {"answered": "odpowiedzieli", "not_answered": "nie odpowiedzieli"},
        "przedstawiciele instytucji zaproszeni do rund ankiety według udziału",
        {"response_rate": "odpowiedzieli ÷ zaproszeni (%)"},
    ),
}  # fmt: skip


def row_label(by: str, key: str) -> str:
    register = terc()
    if by == "question":
        return SURVEY_QUESTION_LABELS.get(key, key)  # type: ignore[call-overload]
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
    """Counts by row and column with their totals; `hidden` names withheld cells (column key,
    or "total" for the row total), whose values are None."""

    columns: dict[str, str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    total: dict[str, Any] = field(default_factory=dict)
    threshold: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "columns": [{"key": k, "label": v} for k, v in self.columns.items()],
            "rows": self.rows,
            "total": self.total,
            "suppression": disclosure_note(self.threshold),
        }


def disclosure_note(threshold: int | None) -> dict[str, Any] | None:
    """How the figures of an answer are protected (None: exact, for a gmina or powiat)."""
    if threshold is None:
        return None
    return {
        "threshold": threshold,
        "sign": SUPPRESSED_MARK,
        "method": "cell-key",
        "max_noise": MAX_NOISE,
        "withheld_up_to": withheld_up_to(threshold),
    }


def cross_table(
    cells: Sequence[Mapping[str, Any]],
    columns: Mapping[str, str],
    label_of: Any,
    *,
    threshold: int | None,
) -> CrossTable:
    """Build the table from the (level, row, col, n, key) of store.cells: its cells and, as
    cells of their own, the row totals, the column totals and the grand total. With a threshold
    every figure is protected on its own count and key (disclosure.protect): no total is a sum
    of protected figures, and the same records give the same figure in any table."""
    inner = [c for c in cells if c["level"] == "cell"]
    extra = sorted({str(c["col"]) for c in inner if str(c["col"]) not in columns})
    all_columns = {**columns, **{k: k for k in extra}}
    found: dict[tuple[str, str | None, str | None], tuple[int, int]] = {
        (c["level"], _text(c["row"]), _text(c["col"])): (int(c["n"]), int(c["key"])) for c in cells
    }
    row_keys = sorted({str(c["row"]) for c in inner})

    def figure(level: str, row: str | None, col: str | None) -> int | None:
        n, key = found.get((level, row, col), (0, 0))
        return n if threshold is None else protect(n, key, threshold)

    def line(row: str | None) -> dict[str, Any]:
        level = "cell" if row is not None else "col"
        values = {k: figure(level, row, k) for k in all_columns}
        total = figure("row", row, None) if row is not None else figure("all", None, None)
        hidden = [k for k, v in values.items() if v is None]
        return {"cells": values, "total": total, "hidden": hidden + ["total"] * (total is None)}

    table = CrossTable(all_columns, threshold=threshold)
    for key in row_keys:
        table.rows.append({"key": key, "label": label_of(key), **line(key)})
    table.total = {"key": "total", "label": "ogółem", **line(None)}
    return table


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


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
    "referrals_answered",
    "referrals_overdue",
)
DERIVED = {
    "success_share": ("completed_successfully", "cases_closed"),
    "acceptance_rate": ("referrals_accepted", "referrals_answered"),
    "days_to_diagnosis_median": ("diagnosed",),
    "days_to_diagnosis_p90": ("diagnosed",),
    "days_to_first_support_median": ("supported",),
    "days_to_first_support_p90": ("supported",),
}

INDICATOR_DEFINITIONS = {
    "success_share": SUCCESS_SHARE,
    "acceptance_rate": ACCEPTANCE_RATE,
    "cases_closed": "rodziny, których sprawa była zamknięta na koniec dnia (po ostatnim "
    "zamknięciu, nie wznowiona)",
    "referrals_accepted": "skierowania kiedykolwiek przyjęte (także później anulowane)",
    "total": "z wszystkich jednostek zakresu, nie suma wierszy",
}
SUMMARY_COUNTS = ("cases_opened", "supports_assigned", "referrals")
SUMMARY_DEFINITIONS = {
    "cases_opened": "rodziny objęte wsparciem (sprawy otwarte do dnia)",
    "supports_assigned": REPORTS["supports"].counts,
    "referrals": REPORTS["referrals"].counts,
    "total": "z wszystkich jednostek zakresu, nie suma wierszy",
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
    "referrals_answered": "skierowania z odpowiedzią",
    "supports_assigned": "wsparcie skierowane do instytucji",
    "referrals_overdue": "skierowania po terminie",
    "success_share": "odsetek zakończonych sukcesem wśród zakończonych (%)",
    "acceptance_rate": "odsetek przyjętych wśród skierowań z odpowiedzią (%)",
    "days_to_diagnosis_median": "dni do diagnozy (mediana)",
    "days_to_diagnosis_p90": "dni do diagnozy (90. percentyl)",
    "days_to_first_support_median": "dni od diagnozy do wsparcia (mediana)",
    "days_to_first_support_p90": "dni od diagnozy do wsparcia (90. percentyl)",
}


def add_row_figures(report: str, table: CrossTable) -> None:
    """Figures a row of some tables also carries: the acceptance rate of a sector's referrals
    (ACCEPTANCE_RATE), the number of sectors cooperating in a gmina. A rate rests on the
    figures shown (withheld with them); a withheld count is one or more, so it is a sector
    engaged."""
    for line in (*table.rows, table.total):
        cells = line["cells"]
        if report == "acceptance_by_sector":
            accepted, declined = cells.get("accepted", 0), cells.get("declined", 0)
            answered = None if None in (accepted, declined) else accepted + declined
            line["acceptance_rate"] = rate(accepted, answered, table.threshold)
        elif report in ("cooperation", "meeting_sectors"):
            line["sectors_engaged"] = sum(1 for v in cells.values() if v != 0)
        elif report == "meetings":
            line["institutions_per_meeting"] = per_meeting(
                cells.get("attendances", 0), cells.get("held", 0), table.threshold
            )
        elif report == "follow_ups":
            for m in (3, 6):
                kept, lost = cells.get(f"{m}_sustained", 0), cells.get(f"{m}_not_sustained", 0)
                whole = None if None in (kept, lost) else kept + lost
                line[f"sustained_share_{m}"] = rate(kept, whole, table.threshold)
        elif report == "survey_responses":
            line["response_rate"] = rate(cells.get("answered", 0), line["total"], table.threshold)


def per_meeting(attendances: int | None, held: int | None, threshold: int | None) -> float | None:
    """Institutions attending a meeting on average, to one decimal: from exact counts, or for
    protected readers from the published ones, only where the meetings shown reach the
    threshold (as a share's whole must)."""
    if attendances is None or held is None or not held:
        return None
    if threshold is not None and held < threshold:
        return None
    return round(attendances / held, 1)


def rate(part: int | None, whole: int | None, threshold: int | None) -> float | None:
    """A percentage: exact from exact counts, else from the published ones (disclosure.share)."""
    if threshold is None:
        return None if part is None or whole is None else share(part, whole)
    return protected_share(part, whole, threshold)


QUANTILES = {
    "days_to_diagnosis_median": ("days_to_diagnosis", 0.5),
    "days_to_diagnosis_p90": ("days_to_diagnosis", 0.9),
    "days_to_first_support_median": ("days_to_first_support", 0.5),
    "days_to_first_support_p90": ("days_to_first_support", 0.9),
}


def indicator_rows(
    cells: Sequence[Mapping[str, Any]],
    durations: Sequence[Mapping[str, Any]],
    label_of: Any,
    threshold: int | None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The indicators per row and in total from store.cells("indicators") and store.durations:
    the counts exact (threshold None) or each protected on its own records and key, the
    shares from the counts shown, the percentiles exact or as disclosure.protected_quantile
    gives them. The total is figured from the records of the whole scope."""
    table = cross_table(cells, {c: c for c in INDICATOR_COUNTS}, label_of, threshold=threshold)
    days = {str(d["row"]): d for d in durations}
    every_day: dict[str, list[float]] = {"days_to_diagnosis": [], "days_to_first_support": []}
    for found in durations:
        for name, values in every_day.items():
            values.extend(float(v) for v in found[name])

    def figures(line: Mapping[str, Any], found: Mapping[str, Any]) -> dict[str, Any]:
        shown: dict[str, Any] = {name: line["cells"].get(name, 0) for name in INDICATOR_COUNTS}
        for name in ("success_share", "acceptance_rate"):
            part, whole = DERIVED[name]
            shown[name] = rate(shown[part], shown[whole], threshold)
        for name, (series, q) in QUANTILES.items():
            values = [float(v) for v in found.get(series) or ()]
            if threshold is None:
                shown[name] = exact_quantile(values, q)
            elif any(shown[base] is None for base in DERIVED[name]):
                shown[name] = None  # withheld with its count, which may be above T
            else:
                shown[name] = protected_quantile(values, q, threshold).value
        hidden = [k for k in (*INDICATOR_COUNTS, *DERIVED) if shown[k] is None]
        if threshold is not None and hidden:
            shown["hidden"] = hidden
        return shown

    rows = [
        {"key": line["key"], "label": line["label"], **figures(line, days.get(line["key"], {}))}
        for line in table.rows
    ]
    total = {"key": "total", "label": "ogółem", **figures(table.total, every_day)}
    return rows, total


def exact_quantile(values: Sequence[float], q: float) -> float | None:
    """percentile_cont: linear interpolation between the two nearest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --- figures beside the counts of the activities and evaluation tables -----------------------


def add_means(table: CrossTable, cells: Sequence[Mapping[str, Any]]) -> None:
    """The mean answer of each question (row) of `survey_answers`: from the true answers, to one
    decimal, and for protected readers only where the question has at least `threshold`
    answers and its total is shown."""
    answers: dict[str | None, dict[int, int]] = {}
    for c in cells:
        if c["level"] in ("cell", "col"):
            row = None if c["level"] == "col" else str(c["row"])
            answers.setdefault(row, {})[int(c["col"])] = int(c["n"])
    for line in (*table.rows, table.total):
        found = answers.get(None if line is table.total else line["key"], {})
        n = sum(found.values())
        hidden = table.threshold is not None and (n < table.threshold or line["total"] is None)
        line["mean"] = (
            None if not n or hidden else round(sum(v * k for v, k in found.items()) / n, 1)
        )
        if line["mean"] is None and n:
            line["hidden"].append("mean")


def add_hours(table: CrossTable, minutes: Sequence[Mapping[str, Any]]) -> None:
    """The hours of the sessions of `activity_sessions`, per type and in total, shown where the
    number of sessions is."""
    found = {(_text(m["row"]), _text(m["col"])): int(m["minutes"] or 0) for m in minutes}
    for line in (*table.rows, table.total):
        row = None if line is table.total else line["key"]
        hours = {}
        for col, shown in (*line["cells"].items(), (None, line["total"])):
            value = found.get((row, col), 0)
            hours[col or "total"] = None if shown is None else round(value / 60, 1)
        line["hours"] = hours


def add_success_share(
    table: CrossTable, indicator_cells: Sequence[Mapping[str, Any]], label_of: Any
) -> None:
    """The success share (SUCCESS_SHARE) of each row beside its follow-ups, figured as the
    indicators table figures it (from the counts it publishes)."""
    rows, total = indicator_rows(indicator_cells, [], label_of, table.threshold)
    by_key = {r["key"]: r for r in rows}
    for line in table.rows:
        line["success_share"] = by_key.get(line["key"], {}).get("success_share")
    table.total["success_share"] = total["success_share"]
