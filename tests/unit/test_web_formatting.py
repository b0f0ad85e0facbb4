"""The web front's Polish forms and its mapping of problem details onto form fields."""

from __future__ import annotations

from datetime import date

from services.web.formatting import as_date, as_number, as_percent, counted
from services.web.forms import field_id, from_problem

NBSP = "\u00a0"


def test_dates_read_day_month_year_with_dots() -> None:
    assert as_date(date(2026, 1, 5)) == "05.01.2026"
    assert as_date("2025-12-31") == "31.12.2025"
    assert as_date(None) == ""


def test_numbers_group_thousands_with_a_space_and_use_a_decimal_comma() -> None:
    assert as_number(1234567) == f"1{NBSP}234{NBSP}567"
    assert as_number(2.5, 1) == "2,5"
    assert as_number(12345.678, 2) == f"12{NBSP}345,68"
    assert as_percent(0.814) == "81,4%"


def test_polish_plural_forms() -> None:
    forms = ("sprawa", "sprawy", "spraw")
    assert [counted(n, *forms) for n in (0, 1, 2, 4, 5, 11, 12, 21, 22, 25, 104)] == [
        "0 spraw",
        "1 sprawa",
        "2 sprawy",
        "4 sprawy",
        "5 spraw",
        "11 spraw",
        "12 spraw",
        "21 spraw",
        "22 sprawy",
        "25 spraw",
        "104 sprawy",
    ]


def test_a_wrong_pesel_lands_beside_its_member_field_in_polish() -> None:
    problem = {
        "code": "invalid_pesel",
        "title": "Nieprawidłowe dane",
        "detail": "PESEL is not valid: checksum",
        "field": "members[1].pesel",
    }
    errors = from_problem(problem)
    assert errors.fields == {"members-1-pesel": "Numer PESEL jest nieprawidłowy — sprawdź cyfry."}
    assert errors.general == []


def test_every_schema_error_is_placed_and_an_unknown_field_goes_to_the_summary() -> None:
    problem = {
        "code": "validation_failed",
        "title": "Nieprawidłowe dane",
        "errors": [
            {"field": "members[0].pesel", "type": "string_pattern_mismatch"},
            {"field": "members[0].first_name", "type": "string_too_short"},
            {"field": "something_hidden", "type": "missing"},
        ],
    }
    known = {"members-0-pesel", "members-0-first_name"}
    errors = from_problem(problem, known)
    assert errors.fields == {
        "members-0-pesel": "Numer PESEL ma 11 cyfr.",
        "members-0-first_name": "To pole jest wymagane.",
    }
    assert errors.general == ["To pole jest wymagane."]


def test_api_paths_become_html_ids() -> None:
    assert field_id("members[0].pesel") == "members-0-pesel"
    assert field_id("consent.given_on") == "consent-given_on"


def test_the_hand_written_forms_are_babels_polish_forms_character_for_character() -> None:
    from datetime import datetime, timedelta
    from decimal import Decimal

    from babel import Locale
    from babel.dates import format_date
    from babel.numbers import format_decimal, format_percent

    from services.web.formatting import plural

    pl = Locale.parse("pl_PL")
    numbers: list[int | float | Decimal] = [0, 1, 5, 999, 1000, 1234, 99999, 100000, 1234567]
    numbers += [-1, -1234, -12345678, 10**12]
    numbers += [0.5, 1.5, 2.5, 2.25, 2.35, 0.0005, 0.0015, -0.0004, 1234.5678, 12345.678]
    numbers += [0.814, 0.1, 1 / 3, 2 / 3, 999.9995, -999.9995, 1e-7, 123456789.123456]
    numbers += [Decimal("1234.5"), Decimal("-0.25"), Decimal("7")]
    for value in numbers:
        assert as_number(value) == format_decimal(value, locale=pl, group_separator=True), value
        for decimals in (0, 1, 2):
            pattern = "#,##0." + "0" * decimals if decimals else "#,##0"
            babel = format_decimal(value, format=pattern, locale=pl)
            assert as_number(value, decimals) == babel, (value, decimals)
        if not isinstance(value, Decimal):
            for decimals in (0, 1, 2):
                pattern = "#,##0." + "0" * decimals + "%"
                babel = format_percent(value, format=pattern, locale=pl)
                assert as_percent(value, decimals) == babel, (value, decimals)
    day = date(1999, 12, 25)
    for _ in range(400):
        assert as_date(day) == format_date(day, "dd.MM.yyyy", locale=pl)
        day += timedelta(days=37)
    assert as_date(datetime(2026, 3, 4, 23, 59)) == "04.03.2026"
    for n in range(0, 1300):
        form = pl.plural_form(n)
        assert plural(n, "one", "few", "many") == {"one": "one", "few": "few"}.get(form, "many")
