"""Sessions and sign-in modes: an expired session returns to sign-in (and back to the page
after signing in again); signing out ends the session for good; in production mode the demo
sign-in does not exist; every form refuses a post without its CSRF token."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
from playwright.async_api import Browser

from tests.browser.conftest import ARTIFACTS, DEVELOPMENT, Visit, WebFront

CASEWORKER = "demo-anna-kowalczyk"


async def test_an_expired_session_returns_to_sign_in_and_then_to_the_page(
    browser: Browser, start_web: Callable[..., WebFront]
) -> None:
    front = start_web("short-session", **DEVELOPMENT, KOOP_WEB_SESSION_IDLE_SECONDS="2")
    context = await browser.new_context(locale="pl-PL", bypass_csp=True)
    try:
        visit = Visit(await context.new_page(), context, front.url, ARTIFACTS / "expired-session")
        await visit.sign_in_as(CASEWORKER, then="/sprawy/nowa")
        assert visit.page.url == f"{front.url}/sprawy/nowa"
        await asyncio.sleep(3)  # idle longer than the session may be
        await visit.goto("/sprawy?status=closed")
        assert visit.page.url.startswith(f"{front.url}/logowanie?next=")
        assert "Sesja wygasła" in await visit.page.locator("[role=status]").inner_text()
        await visit.check("sesja wygasla")
        await visit.page.locator(
            f"form:has(input[name=subject][value='{CASEWORKER}']) button"
        ).click()
        await visit.page.wait_for_url(f"{front.url}/sprawy?status=closed")
        assert await visit.heading() == "Sprawy gminy"
    finally:
        await context.close()


async def test_signing_out_ends_the_session_even_for_a_copied_cookie(visit: Visit) -> None:
    await visit.sign_in_as(CASEWORKER)
    cookies = await visit.context.cookies()
    [session_cookie] = [c for c in cookies if c["name"] == "koop_session"]
    assert session_cookie["httpOnly"] is True
    assert session_cookie["sameSite"] == "Lax"
    await visit.page.get_by_role("button", name="Wyloguj się").click()
    assert "Wylogowano" in await visit.page.locator("[role=status]").inner_text()
    # The cookie as it was before signing out opens nothing any more.
    async with httpx.AsyncClient(base_url=visit.base_url) as http:
        r = await http.get("/sprawy", cookies={"koop_session": session_cookie["value"]})
    assert r.status_code == 303
    assert r.headers["location"].startswith("/logowanie?next=")


async def test_a_form_posted_without_its_csrf_token_is_refused(visit: Visit) -> None:
    await visit.sign_in_as(CASEWORKER)
    response = await visit.page.request.post(
        f"{visit.base_url}/sprawy/nowa", form={"action": "open", "member_count": "1"}
    )
    assert response.status == 403
    assert "Formularz wygasł" in await response.text()


async def test_in_production_the_demo_sign_in_does_not_exist(
    start_web: Callable[..., WebFront],
) -> None:
    front = start_web("production", KOOP_ENV="production", KOOP_WEB_COOKIE_SECURE="false")
    async with httpx.AsyncClient(base_url=front.url) as http:
        page = await http.get("/logowanie")
        assert page.status_code == 200
        assert "Zaloguj jako" not in page.text
        assert "Anna Kowalczyk" not in page.text
        for method in ("GET", "POST"):
            r = await http.request(method, "/logowanie/demo", data={"subject": CASEWORKER})
            assert r.status_code == 404, (method, r.status_code)
        assert (await http.get("/sprawy")).status_code == 303
