"""Dates as the APIs document them (`format: date`, YYYY-MM-DD) and nothing else: pydantic on
its own also takes a number as a Unix time, so `?to=0` would quietly mean 1 January 1970."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_only(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO.fullmatch(value):
        return value  # pydantic checks that the day exists
    raise ValueError("a date as YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(_iso_only)]
