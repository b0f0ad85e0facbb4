"""Dates in the APIs are YYYY-MM-DD only: a number is not a Unix time, a day must exist."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from pydantic import TypeAdapter, ValidationError

from shared.isodate import IsoDate

DATES = TypeAdapter(IsoDate)


@pytest.mark.parametrize("value", ["2026-02-28", date(2026, 2, 28)])
def test_a_calendar_date_is_taken(value: object) -> None:
    assert DATES.validate_python(value) == date(2026, 2, 28)


@pytest.mark.parametrize(
    "value", [0, "0", 1767225600, "2026-2-28", "2026-02-30", "28.02.2026", datetime(2026, 2, 28)]
)
def test_anything_else_is_refused(value: object) -> None:
    with pytest.raises(ValidationError):
        DATES.validate_python(value)
