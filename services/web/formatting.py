"""Polish forms of what people read: dates dd.mm.rrrr, numbers with a space between thousands
and a decimal comma, and the plural forms (1 sprawa, 2 sprawy, 5 spraw), by Babel's pl_PL."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

LOCALE = Locale.parse("pl_PL")


def as_date(value: date | datetime | str | None) -> str:
    """dd.mm.rrrr; an ISO string is read first. Empty for None."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, "dd.MM.yyyy", locale=LOCALE)


def as_datetime(value: datetime | str | None) -> str:
    """dd.mm.rrrr gg:mm."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return f"{as_date(value)} {value:%H:%M}"


def as_number(value: int | float | Decimal | None, decimals: int | None = None) -> str:
    """1 234 567,5 — Polish grouping (a non-breaking space) and a decimal comma."""
    if value is None:
        return ""
    if decimals is None:
        return format_decimal(value, locale=LOCALE, group_separator=True)
    pattern = "#,##0." + "0" * decimals if decimals else "#,##0"
    return format_decimal(value, format=pattern, locale=LOCALE)


def as_percent(share: float | None, decimals: int = 1) -> str:
    """A share (0.814) as 81,4%."""
    if share is None:
        return ""
    return format_percent(share, format="#,##0." + "0" * decimals + "%", locale=LOCALE)


def plural(count: int, one: str, few: str, many: str) -> str:
    """The noun form for a count: plural(1, "sprawa", "sprawy", "spraw") -> "sprawa"."""
    form = LOCALE.plural_form(abs(count))
    return {"one": one, "few": few}.get(form, many)


def counted(count: int, one: str, few: str, many: str) -> str:
    """'5 spraw', '22 sprawy', '1 sprawa'."""
    return f"{as_number(count)} {plural(count, one, few, many)}"
