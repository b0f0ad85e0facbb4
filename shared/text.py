"""The text every free-text input of every service takes: no NUL, no other control character,
no lone surrogate (PostgreSQL cannot store the first nor encode the last). TAB, LF and CR are
allowed in multi-line fields only. A refused value is a 422 naming the field.

Use `SingleLine` / `MultiLine` for every free-text field of a request model and every free-text
header or query parameter, with `Field(max_length=...)` (or `Header`, `Query`) beside them. An
optional field with a `pattern` puts it before the check, or the OpenAPI document loses it:
`Annotated[str, Field(pattern=...), CHECK_SINGLE_LINE] | None`."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

# C0 controls, DEL, C1 controls and the surrogate range (only lone halves reach a str).
_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_FORBIDDEN_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def forbidden_character(value: str, *, multiline: bool) -> str | None:
    """A description of the first character the text may not hold, or None."""
    found = (_FORBIDDEN_MULTILINE if multiline else _FORBIDDEN).search(value)
    if found is None:
        return None
    char = found.group()
    what = "połówka pary zastępczej" if "\ud800" <= char <= "\udfff" else "znak sterujący"
    return f"niedozwolony znak: {what} U+{ord(char):04X} na pozycji {found.start() + 1}"


def _check(multiline: bool):
    def validate(value: str) -> str:
        problem = forbidden_character(value, multiline=multiline)
        if problem is not None:
            raise PydanticCustomError("forbidden_character", problem)
        return value

    return validate


CHECK_SINGLE_LINE = AfterValidator(_check(multiline=False))
CHECK_MULTI_LINE = AfterValidator(_check(multiline=True))

SingleLine = Annotated[str, CHECK_SINGLE_LINE]
"""A name, an address, a reason: one line of printable text."""

MultiLine = Annotated[str, CHECK_MULTI_LINE]
"""A summary or notes: printable text, with TAB, LF and CR."""
