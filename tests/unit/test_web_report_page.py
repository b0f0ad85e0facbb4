"""The report page's own logic: the filters read from the address, the months of the chart, and
the indicators table keeping withheld apart from nothing to count."""

from __future__ import annotations

from datetime import date

from services.web.forms import FormErrors
from services.web.pages.reports import INDICATOR_COLUMNS, Filters, indicator_rows, read_filters


def test_filters_are_read_checked_and_given_back_as_reportings_parameters() -> None:
    errors = FormErrors()
    found = read_filters(
        {
            "powiat": "0601",
            "gmina": "0601032",
            "wariant": "rural",
            "grupowanie": "powiat",
            "od": "2026-01-01",
            "do": "2026-03-31",
            "stan_na": "2026-04-30",
        },
        errors,
    )
    assert not errors
    assert found.api() == {
        "region": None,
        "powiat": "0601",
        "gmina": "0601032",
        "variant": "rural",
        "by": "powiat",
        "from": "2026-01-01",
        "to": "2026-03-31",
        "as_of": "2026-04-30",
    }
    assert found.query() == (
        "powiat=0601&gmina=0601032&wariant=rural&grupowanie=powiat&od=2026-01-01"
        "&do=2026-03-31&stan_na=2026-04-30"
    )


def test_bad_filters_are_named_by_their_field() -> None:
    errors = FormErrors()
    read_filters(
        {
            "region": "99",
            "powiat": "9999",
            "gmina": "0000000",
            "wariant": "city",
            "grupowanie": "street",
            "od": "2026-05-01",
            "do": "2026-04-01",
            "stan_na": "jutro",
        },
        errors,
    )
    assert set(errors.fields) == {
        "region",
        "powiat",
        "gmina",
        "wariant",
        "grupowanie",
        "od",
        "stan_na",
    }
    assert errors.get("od") == "Data początkowa jest późniejsza niż końcowa."
    assert errors.get("stan_na") == "Podaj datę w postaci dd.mm.rrrr."


def test_the_chart_covers_twelve_months_or_the_period_chosen() -> None:
    today = date(2026, 11, 29)
    assert [m.label for m in Filters().period(today)][::11] == ["12.2025", "11.2026"]
    assert len(Filters().period(today)) == 12
    as_of = Filters(as_of=date(2026, 3, 15)).period(today)
    assert (as_of[0].label, as_of[-1].label) == ("04.2025", "03.2026")
    chosen = Filters(opened_from=date(2026, 2, 10), opened_to=date(2026, 4, 2)).period(today)
    assert [m.label for m in chosen] == ["02.2026", "03.2026", "04.2026"]
    long = Filters(opened_from=date(2020, 1, 1), opened_to=date(2026, 4, 2)).period(today)
    assert len(long) == 24 and long[-1].label == "04.2026"


def test_the_indicators_table_marks_withheld_apart_from_nothing_to_count() -> None:
    answer = {
        "rows": [
            {
                "key": "0601032",
                "label": "Biała Podlaska",
                "cases_opened": None,
                "success_share": None,
                "hidden": ["cases_opened", "success_share"],
            },
            {
                "key": "0601011",
                "label": "Międzyrzec Podlaski",
                "cases_opened": 12,
                "success_share": None,
            },
        ],
        "total": {"key": "total", "label": "ogółem", "cases_opened": 15, "success_share": 40.0},
    }
    rows = indicator_rows(answer)
    column = [name for name, _ in INDICATOR_COLUMNS]
    opened, share = column.index("cases_opened"), column.index("success_share")
    assert [r["label"] for r in rows] == ["Biała Podlaska", "Międzyrzec Podlaski", "ogółem"]
    assert rows[0]["cells"][opened] == {"value": None, "withheld": True, "percent": False}
    assert rows[1]["cells"][share] == {"value": None, "withheld": False, "percent": True}
    assert rows[2]["cells"][share]["value"] == 40.0 and rows[2]["total"]
