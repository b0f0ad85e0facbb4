"""The page's Server-Timing: API waits counted once when calls overlap, the rest is the page's."""

from __future__ import annotations

import pytest

from bench.web_pages import server_timing
from services.web.timing import header, waited


@pytest.mark.parametrize(
    ("intervals", "expected"),
    [
        ([], 0.0),
        ([(1.0, 2.0)], 1.0),
        ([(1.0, 2.0), (3.0, 3.5)], 1.5),  # one after the other
        ([(1.0, 2.0), (1.5, 2.5), (1.2, 1.4)], 1.5),  # side by side (asyncio.gather)
        ([(2.0, 3.0), (1.0, 4.0)], 3.0),  # one inside another, in any order
    ],
)
def test_time_waited_on_the_services_counts_overlapping_calls_once(
    intervals: list[tuple[float, float]], expected: float
) -> None:
    assert waited(intervals) == pytest.approx(expected)


def test_the_header_splits_the_server_time_into_api_and_page_and_the_benchmark_reads_it() -> None:
    text = header(0.050, [(0.0, 0.010), (0.005, 0.030), (0.040, 0.045)])
    assert text == 'api;dur=35.0;desc="3 calls", page;dur=15.0, total;dur=50.0'
    assert server_timing(text) == {
        "api": (35.0, "3 calls"),
        "page": (15.0, ""),
        "total": (50.0, ""),
    }


def test_the_session_stores_wait_is_its_own_part_and_not_the_pages() -> None:
    text = header(0.020, [(0.002, 0.012)], [(0.0, 0.001), (0.018, 0.020)])
    assert text == 'api;dur=10.0;desc="1 calls", session;dur=3.0, page;dur=7.0, total;dur=20.0'
    assert server_timing(text)["session"] == (3.0, "")
