"""Where a page's server time goes, in each answer's `Server-Timing` header: `api` (the time
spent waiting on the services, overlapping calls counted once), `page` (the rest: composing
what they answered and rendering it) and `total`. The page-speed benchmark reads it
(bench/web_pages.py); a browser's developer tools show it. Durations only, nothing else."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence

from fastapi import Request
from fastapi.responses import Response


def waited(intervals: Sequence[tuple[float, float]]) -> float:
    """The length of the union of (start, end) intervals: concurrent calls count once."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(intervals):
        if end <= reach:
            continue
        total += end - max(start, reach)
        reach = end
    return total


def header(total_s: float, intervals: Sequence[tuple[float, float]]) -> str:
    api = min(waited(intervals), total_s)
    return (
        f'api;dur={api * 1000:.1f};desc="{len(intervals)} calls", '
        f"page;dur={(total_s - api) * 1000:.1f}, total;dur={total_s * 1000:.1f}"
    )


async def server_timing(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    request.state.api_waits = waits = []
    started = time.perf_counter()
    response = await call_next(request)
    response.headers["Server-Timing"] = header(time.perf_counter() - started, waits)
    return response
