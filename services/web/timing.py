"""Where a page's server time goes, in each answer's `Server-Timing` header: `api` (the time
spent waiting on the services, overlapping calls counted once), `session` (reading and writing
the session in the web's own database), `page` (the rest: composing what the services
answered and rendering it) and `total` (services/web/middleware.py sets it). The page-speed
benchmark reads it (bench/web_pages.py); a browser's developer tools show it. Durations only."""

from __future__ import annotations

from collections.abc import Sequence


def waited(intervals: Sequence[tuple[float, float]]) -> float:
    """The length of the union of (start, end) intervals: concurrent calls count once."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(intervals):
        if end <= reach:
            continue
        total += end - max(start, reach)
        reach = end
    return total


def header(
    total_s: float,
    intervals: Sequence[tuple[float, float]],
    session: Sequence[tuple[float, float]] = (),
) -> str:
    """`api` (the services), `session` (the session store, when the request used it), `page`
    (the rest) and `total`, in milliseconds."""
    api = min(waited(intervals), total_s)
    stored = min(waited(session), total_s - api)
    parts = [f'api;dur={api * 1000:.1f};desc="{len(intervals)} calls"']
    if session:
        parts.append(f"session;dur={stored * 1000:.1f}")
    parts.append(f"page;dur={(total_s - api - stored) * 1000:.1f}")
    parts.append(f"total;dur={total_s * 1000:.1f}")
    return ", ".join(parts)
