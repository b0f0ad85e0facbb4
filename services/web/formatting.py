"""Polish forms of what people read: dates dd.mm.rrrr, numbers with a (non-breaking) space
between thousands and a decimal comma, and the plural forms (1 sprawa, 2 sprawy, 5 spraw).

Written out by hand rather than through Babel on every call: a page formats hundreds of dates
and numbers, and Babel's pattern machinery cost more than the rest of the rendering. The output
is Babel's pl_PL, character for character (tests/unit/test_web_formatting.py compares them):
grouping by three from the first thousand, rounding half to even, at most three decimals
unless told."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

NBSP = "\u00a0"
_PLACES = [Decimal(1).scaleb(-n) for n in range(10)]  # 1, 0.1, 0.01, …


def as_date(value: date | datetime | str | None) -> str:
    """dd.mm.rrrr; an ISO string is read first. Empty for None."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    return f"{value.day:02d}.{value.month:02d}.{value.year:04d}"


def as_datetime(value: datetime | str | None) -> str:
    """dd.mm.rrrr gg:mm."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return f"{as_date(value)} {value:%H:%M}"


def _decimal(value: int | float | Decimal) -> Decimal:
    # A float as it prints (0.1, not 0.1000000000000000055…), as Babel reads it.
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _polish(number: Decimal, decimals: int, *, trim: bool) -> str:
    """`number` rounded half to even to `decimals` places, grouped, with a decimal comma;
    `trim` drops trailing zeros of the fraction (Babel's optional digits, "#,##0.###")."""
    rounded = number.quantize(_PLACES[decimals], rounding=ROUND_HALF_EVEN)
    text = f"{rounded:,f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(",", NBSP).replace(".", ",")


def as_number(value: int | float | Decimal | None, decimals: int | None = None) -> str:
    """1 234 567,5 — Polish grouping (a non-breaking space) and a decimal comma; without
    `decimals`, up to three decimals as needed."""
    if value is None:
        return ""
    if isinstance(value, int) and decimals is None:
        return f"{value:,d}".replace(",", NBSP)
    number = _decimal(value)
    if not number.is_finite():
        return str(value)
    if decimals is None:
        return _polish(number, 3, trim=True)
    return _polish(number, decimals, trim=False)


def as_percent(share: float | None, decimals: int = 1) -> str:
    """A share (0.814) as 81,4%."""
    if share is None:
        return ""
    return _polish(_decimal(share) * 100, decimals, trim=False) + "%"


def plural(count: int, one: str, few: str, many: str) -> str:
    """The noun form for a count: plural(1, "sprawa", "sprawy", "spraw") -> "sprawa"
    (CLDR's Polish rule for whole numbers)."""
    n = abs(count)
    if n == 1:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def counted(count: int, one: str, few: str, many: str) -> str:
    """'5 spraw', '22 sprawy', '1 sprawa'."""
    return f"{as_number(count)} {plural(count, one, few, many)}"
