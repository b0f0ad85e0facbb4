"""The offset every paged list takes: bounded, so that a huge number is a 422 naming the
parameter and never an overflow in the database (the `limit` is each route's own page size)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

MAX_OFFSET = 1_000_000  # a gmina's cases over decades; deeper paging is refused

Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip")]
