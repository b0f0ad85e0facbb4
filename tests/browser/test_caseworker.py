"""The caseworker's path in a real browser: sign in, the gmina's cases."""

from __future__ import annotations

from tests.browser.conftest import Visit


async def test_caseworker_signs_in_and_sees_the_cases_of_the_gmina(visit: Visit) -> None:
    await visit.sign_in_as("demo-anna-kowalczyk")
    assert visit.page.url.endswith("/sprawy")
    assert await visit.heading() == "Sprawy gminy"
    await visit.check("sprawy")
