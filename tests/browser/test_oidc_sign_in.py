"""Production sign-in against a real OpenID Connect provider started by the test
(PyPI `oidc-provider-mock`): authorization code with PKCE, the ID token checked against the
provider's JWKS by the web front and by an intake in production mode, whose pages then work
with it; a token of another issuer is refused."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser

from kooperacja import processes
from shared.auth import Role, issue_token
from shared.settings import Settings
from tests.browser.conftest import ARTIFACTS, EXTRA_PORTS, Visit, WebFront
from tests.stack import Stack

CLIENT_ID = "kooperacja-web"
PERSON = {
    "sub": "oidc-alicja-zielinska",
    "name": "Alicja Zielińska",
    "role": "caseworker",
    "gmina": "0601042",
}


class Provider:
    def __init__(self, port: int, users: list[dict[str, Any]]) -> None:
        self.url = f"http://127.0.0.1:{port}"
        log = (ARTIFACTS / "logs" / f"oidc-{port}.log").open("wb")
        args = [sys.executable, "-m", "oidc_provider_mock", "--port", str(port)]
        for user in users:
            args += ["--user-claims", json.dumps(user)]
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"{self.url}/.well-known/openid-configuration", timeout=1)
                if r.status_code == 200:
                    self.issuer = r.json()["issuer"]
                    return
            except httpx.HTTPError:
                pass
            assert self.proc.poll() is None, "the OpenID provider exited"
            assert time.monotonic() < deadline, "the OpenID provider did not start"
            time.sleep(0.2)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    (ARTIFACTS / "logs").mkdir(parents=True, exist_ok=True)
    found = Provider(next(EXTRA_PORTS), [PERSON])
    yield found
    found.stop()


@pytest.fixture(scope="module")
def production_intake(running: Stack, provider: Provider) -> Iterator[str]:
    """A second intake on the same database and queue, in production mode, trusting only the
    provider's tokens (through its JWKS)."""
    port = str(next(EXTRA_PORTS))
    env = {
        "KOOP_ENV": "production",
        "KOOP_INTAKE_PORT": port,
        "KOOP_JWT_JWKS_URL": f"{provider.url}/jwks",
        "KOOP_JWT_ISSUER": provider.issuer,
        "KOOP_JWT_AUDIENCE": CLIENT_ID,
        "KOOP_JWT_ALGORITHMS": '["RS256"]',
    }
    settings = Settings(http_host="127.0.0.1")
    procs = processes.start(settings, env=env, only=("intake",), log_dir=running.log_dir / "oidc")
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert procs["intake"].poll() is None, "the production intake exited"
        assert time.monotonic() < deadline, "the production intake did not start"
        time.sleep(0.2)
    yield port
    processes.stop(procs)


async def test_sign_in_through_the_region_provider_and_work_with_its_token(
    browser: Browser,
    start_web: Callable[..., WebFront],
    provider: Provider,
    production_intake: str,
) -> None:
    front = start_web(
        "oidc",
        KOOP_ENV="production",
        KOOP_WEB_COOKIE_SECURE="false",
        KOOP_WEB_OIDC_ISSUER=provider.issuer,
        KOOP_WEB_OIDC_CLIENT_ID=CLIENT_ID,
        KOOP_WEB_OIDC_CLIENT_SECRET="test-secret",
        KOOP_WEB_OIDC_BEARER="id_token",  # this provider's access tokens are opaque
        KOOP_INTAKE_PORT=production_intake,
    )
    context = await browser.new_context(locale="pl-PL", bypass_csp=True)
    try:
        visit = Visit(await context.new_page(), context, front.url, ARTIFACTS / "oidc-sign-in")
        page = visit.page
        authorize_urls: list[str] = []
        page.on(
            "request",
            lambda r: authorize_urls.append(r.url) if "/oauth2/authorize" in r.url else None,
        )
        await visit.goto("/sprawy")
        assert "/logowanie?next=" in page.url
        assert await page.get_by_text("Zaloguj jako").count() == 0  # no demo sign-in here
        await visit.check("logowanie produkcyjne")
        await page.get_by_role("button", name="Zaloguj się przez konto regionu").click()
        await page.wait_for_url(f"{provider.url}/oauth2/authorize*")
        assert "code_challenge_method=S256" in authorize_urls[0]
        assert "code_challenge=" in authorize_urls[0]
        await page.get_by_role("button", name=PERSON["sub"]).click()
        await page.wait_for_url(f"{front.url}/sprawy")
        assert await visit.heading() == "Sprawy gminy"
        menu = page.get_by_role("navigation", name="Menu główne")
        assert "Alicja Zielińska (pracownik socjalny)" in await menu.inner_text()
        await visit.check("sprawy po logowaniu oidc")
    finally:
        await context.close()


def test_a_token_of_another_issuer_is_refused(
    provider: Provider, production_intake: str, settings: Settings
) -> None:
    url = f"http://127.0.0.1:{production_intake}/api/v1/cases"
    local = issue_token(settings, subject="intruder", role=Role.CASEWORKER, gmina="0601042")
    r = httpx.get(url, headers={"Authorization": f"Bearer {local}"})
    assert r.status_code == 401, r.text
    assert r.json()["code"] == "invalid_token"
    other = Provider(next(EXTRA_PORTS), [PERSON])
    try:
        token = _id_token(other)
    finally:
        other.stop()
    assert jwt_issuer(token) == other.issuer != provider.issuer
    r = httpx.get(url, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401, r.text
    assert r.json()["code"] == "invalid_token"


def jwt_issuer(token: str) -> str:
    import jwt

    return str(jwt.decode(token, options={"verify_signature": False})["iss"])


def _id_token(provider: Provider) -> str:
    """An ID token of the provider for PERSON, by the code flow driven over HTTP."""
    redirect = "http://127.0.0.1/callback"
    with httpx.Client(base_url=provider.url) as http:
        query = {
            "client_id": CLIENT_ID,
            "redirect_uri": redirect,
            "response_type": "code",
            "scope": "openid",
            "state": "s",
            "nonce": "n",
        }
        r = http.post("/oauth2/authorize", params=query, data={"sub": PERSON["sub"]})
        assert r.status_code == 302, r.text
        code = httpx.URL(r.headers["location"]).params["code"]
        r = http.post(
            "/oauth2/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect},
            auth=(CLIENT_ID, "x"),
        )
        assert r.status_code == 200, r.text
        return str(r.json()["id_token"])
