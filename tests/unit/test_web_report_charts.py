"""The report page's charts, from answers built by reporting's own table code."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.reporting.tables import ANSWER_LABELS, REPORTS, add_row_figures, cross_table
from services.web.charts import NO_DATA, WITHHELD
from services.web.report_charts import (
    MODEL_SUCCESS_SHARE,
    Month,
    acceptance_by_sector,
    cases_over_time,
    months,
    success_share,
    supports_by_type,
)

# a cell key whose noise is 0 and which withholds nothing above the threshold (disclosure.py)
SILENT_KEY = 255 * 256 + 100


def answer(name: str, cells: list[dict[str, Any]], threshold: int | None) -> dict[str, Any]:
    """What GET /reports/{name} answers, made by reporting's own code from (row, col, n): the
    cells with their totals as store.cells gives them, each with a key that adds no noise."""
    levels: dict[tuple[str, Any, Any], int] = {}
    for c in cells:
        for key in (("cell", c["row"], c["col"]), ("row", c["row"], None),
                    ("col", None, c["col"]), ("all", None, None)):  # fmt: skip
            levels[key] = levels.get(key, 0) + c["n"]
    found = [{"level": level, "row": row, "col": col, "n": n, "key": SILENT_KEY}
             for (level, row, col), n in levels.items()]  # fmt: skip
    table = cross_table(found, REPORTS[name].columns, str, threshold=threshold)
    add_row_figures(name, table)
    return table.as_json()


def test_months_cover_both_ends_across_a_new_year() -> None:
    found = months(date(2025, 11, 15), date(2026, 2, 3))
    assert [m.label for m in found] == ["11.2025", "12.2025", "01.2026", "02.2026"]
    assert found[1] == Month(date(2025, 12, 1), date(2025, 12, 31))
    assert found[3].last == date(2026, 2, 28)


def test_supports_by_type_names_each_type_keeps_withheld_and_leaves_out_none_given() -> None:
    cells = [
        {"row": "06", "col": "family_assistant", "n": 40},
        {"row": "06", "col": "psychologist", "n": 12},
        {"row": "06", "col": "speech_therapist", "n": 2},
        {"row": "14", "col": "family_assistant", "n": 30},
        {"row": "14", "col": "psychologist", "n": 9},
        {"row": "14", "col": "speech_therapist", "n": 1},
    ]
    full = supports_by_type(answer("supports", cells, threshold=None))
    assert full.categories == ("asystent rodziny", "pomoc psychologa", "logopeda")
    assert full.series[0].values == (70.0, 21.0, 3.0)
    withheld = supports_by_type(answer("supports", cells, threshold=5))
    seen = dict(zip(withheld.categories, withheld.series[0].values, strict=True))
    assert seen["logopeda"] is WITHHELD
    # the others are shown as they are or withheld as complements, never as anything else
    assert seen["asystent rodziny"] in (70.0, WITHHELD)
    assert seen["pomoc psychologa"] in (21.0, WITHHELD)


def test_acceptance_by_sector_keeps_withheld_apart_from_nothing_to_count() -> None:
    cells = [
        {"row": "health", "col": "accepted", "n": 40},
        {"row": "health", "col": "declined", "n": 10},
        {"row": "health", "col": "unanswered", "n": 7},
        {"row": "labour", "col": "accepted", "n": 2},
        {"row": "labour", "col": "declined", "n": 20},
        {"row": "ngo", "col": "unanswered", "n": 0},
    ]
    # the table's columns are the answers; its rate accepted / (accepted + declined)
    assert set(ANSWER_LABELS) == {"accepted", "declined", "unanswered"}
    chart = acceptance_by_sector(answer("acceptance_by_sector", cells, threshold=5))
    values = dict(zip(chart.categories, chart.series[0].values, strict=True))
    assert values["ochrona zdrowia"] in (80.0, WITHHELD)
    assert values["rynek pracy"] is WITHHELD
    full = acceptance_by_sector(answer("acceptance_by_sector", cells, threshold=None))
    assert full.series[0].values[:2] == (80.0, round(100 * 2 / 22, 1))
    assert values["organizacje pozarządowe"] is NO_DATA
    assert chart.unit == "%"


def test_success_share_per_group_and_in_total_against_the_model() -> None:
    indicators = {
        "rows": [
            {"key": "0601011", "label": "Międzyrzec Podlaski", "success_share": 84.2},
            {
                "key": "0601032",
                "label": "Biała Podlaska",
                "success_share": None,
                "hidden": ["completed_successfully", "success_share"],
            },
            {"key": "0601043", "label": "Janów Podlaski", "success_share": None},
        ],
        "total": {"key": "total", "label": "ogółem", "success_share": 81.4},
    }
    chart = success_share(indicators)
    assert chart.categories == (
        "Międzyrzec Podlaski",
        "Biała Podlaska",
        "Janów Podlaski",
        "ogółem",
    )
    assert chart.series[0].values == (84.2, WITHHELD, NO_DATA, 81.4)
    assert chart.reference is not None and chart.reference.value == MODEL_SUCCESS_SHARE == 81.4


def test_cases_over_time_takes_each_months_total() -> None:
    jan, feb, mar = months(date(2026, 1, 1), date(2026, 3, 1))
    chart = cases_over_time(
        [
            (jan, {"cases_opened": 7}),
            (feb, {"cases_opened": None, "hidden": ["cases_opened"]}),
            (mar, {"cases_opened": 0}),
        ]
    )
    assert chart.categories == ("01.2026", "02.2026", "03.2026")
    assert chart.series[0].values == (7.0, WITHHELD, 0.0)
