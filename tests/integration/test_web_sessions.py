"""The web front's sessions live in its own database: two web processes share one (signed in
on one, used and signed out on the other), a restart keeps it, an ended one sends the person
to sign in, and the CSRF secret belongs to its session."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from shared.settings import Settings, get_settings
from tests.conftest import PORT_BASE

CASEWORKER = "demo-anna-kowalczyk"  # a demo person whose sign-in calls no service
LOGS = Path(".kooperacja") / "test-logs" / os.environ.get("KOOP_TEST_NAMESPACE", "test")


@dataclass
class Front:
    url: str
    port: int
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        LOGS.mkdir(parents=True, exist_ok=True)
        with (LOGS / f"web-{self.port}.log").open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "services.web"],
                env={
                    **os.environ,
                    "KOOP_ENV": "development",
                    "KOOP_WEB_COOKIE_SECURE": "false",
                    "KOOP_WEB_PORT": str(self.port),
                },
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 120  # slow on a loaded machine
        while True:
            assert self.proc.poll() is None, f"the web front on {self.port} exited"
            try:
                if httpx.get(f"{self.url}/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"the web front on {self.port} did not start"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=15)


@pytest.fixture(scope="module")
def fronts() -> Iterator[tuple[Front, Front]]:
    pair = tuple(
        Front(f"http://127.0.0.1:{port}", port) for port in (PORT_BASE + 30, PORT_BASE + 31)
    )
    try:
        for front in pair:
            front.start()
        yield pair  # type: ignore[misc]
    finally:
        for front in pair:
            front.stop()


def csrf_of(page: httpx.Response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match is not None, "the page has no CSRF token"
    return match.group(1)


def sign_in(front: Front) -> str:
    """Sign in on `front` as the caseworker; returns the session cookie."""
    with httpx.Client(base_url=front.url) as http:
        form = http.get("/logowanie")
        anonymous = http.cookies["koop_session"]
        r = http.post(
            "/logowanie/demo",
            data={"subject": CASEWORKER, "next": "/", "csrf_token": csrf_of(form)},
        )
        assert r.status_code == 303, r.text[:300]
        cookie = r.cookies["koop_session"]
    assert cookie != anonymous  # a new id on signing in
    return cookie


def start_page(front: Front, cookie: str) -> str:
    """Where "/" sends this cookie: the caseworker's cases when signed in, else sign-in."""
    with httpx.Client(base_url=front.url, cookies={"koop_session": cookie}) as http:
        r = http.get("/")
    assert r.status_code == 303
    return r.headers["location"]


def test_a_session_signed_in_on_one_web_process_works_on_another_and_ends_on_either(
    fronts: tuple[Front, Front],
) -> None:
    one, other = fronts
    cookie = sign_in(one)
    assert start_page(one, cookie) == "/sprawy"
    assert start_page(other, cookie) == "/sprawy"
    # The CSRF secret is the session's, whichever process rendered the form.
    with httpx.Client(base_url=other.url, cookies={"koop_session": cookie}) as http:
        token = csrf_of(http.get("/logowanie"))
        r = http.post("/wyloguj", data={"csrf_token": token})
        assert r.status_code == 303 and r.headers["location"] == "/logowanie?wylogowano=1"
    assert start_page(one, cookie) == "/logowanie?next=/"
    assert start_page(other, cookie) == "/logowanie?next=/"


def test_another_sessions_csrf_token_is_refused(fronts: tuple[Front, Front]) -> None:
    one, other = fronts
    mine, theirs = sign_in(one), sign_in(other)
    with httpx.Client(base_url=one.url, cookies={"koop_session": theirs}) as http:
        their_token = csrf_of(http.get("/logowanie"))
    with httpx.Client(base_url=one.url, cookies={"koop_session": mine}) as http:
        r = http.post("/wyloguj", data={"csrf_token": their_token})
    assert r.status_code == 403
    assert start_page(one, mine) == "/sprawy"  # not signed out by a forged form


def test_a_restarted_web_process_keeps_the_session(fronts: tuple[Front, Front]) -> None:
    one, _ = fronts
    cookie = sign_in(one)
    pid = one.proc.pid if one.proc else None
    one.stop()
    one.start()
    assert one.proc is not None and one.proc.pid != pid
    assert start_page(one, cookie) == "/sprawy"


async def _age(settings: Settings, **column: timedelta) -> int:
    """Move every session's clock back (as if that much time had passed); the rows moved."""
    [(name, interval)] = column.items()
    conn = await asyncpg.connect(settings.database_url("web"))
    try:
        status = await conn.execute(
            f"UPDATE web_sessions SET {name} = {name} - $1::interval",  # this test's name
            interval,
        )
    finally:
        await conn.close()
    return int(status.split()[-1])


def test_an_idle_or_token_expired_session_sends_to_sign_in_marked_as_expired(
    fronts: tuple[Front, Front],
) -> None:
    one, other = fronts
    settings = get_settings()
    idle = sign_in(one)
    assert (
        asyncio.run(_age(settings, last_seen=timedelta(minutes=31))) >= 1
    )  # past the 30 minutes' idle time
    assert start_page(other, idle) == "/logowanie?next=/&wygasla=1"
    assert start_page(one, idle) == "/logowanie?next=/"  # ended, and then gone
    token_ended = sign_in(other)
    assert start_page(one, token_ended) == "/sprawy"
    assert (
        asyncio.run(_age(settings, expires_at=timedelta(hours=9))) >= 1
    )  # past the token's 8 hours
    assert start_page(one, token_ended) == "/logowanie?next=/&wygasla=1"


def test_the_browser_holds_only_a_random_id_and_the_table_only_its_hash(
    fronts: tuple[Front, Front],
) -> None:
    one, _ = fronts
    cookie = sign_in(one)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", cookie)
    assert asyncio.run(_rows_for(get_settings(), cookie)) == (1, 0)


async def _rows_for(settings: Settings, cookie: str) -> tuple[int, int]:
    """(rows found by the cookie's hash, rows holding the cookie itself)."""
    conn = await asyncpg.connect(settings.database_url("web"))
    try:
        found = await conn.fetchval(
            "SELECT count(*) FROM web_sessions WHERE id_hash = sha256($1::bytea)",
            cookie.encode(),
        )
        plain = await conn.fetchval(
            "SELECT count(*) FROM web_sessions WHERE position($1 in data::text) > 0", cookie
        )
    finally:
        await conn.close()
    return found, plain


def test_the_sign_in_forms_session_outlasts_the_idle_time_of_a_signed_in_one(
    fronts: tuple[Front, Front],
) -> None:
    """A sign-in page left open past the idle time still signs in (its CSRF secret lives an
    hour); the same idleness ends a signed-in session."""
    one, other = fronts
    with httpx.Client(base_url=one.url) as http:
        form = http.get("/logowanie")
        assert asyncio.run(_age(get_settings(), last_seen=timedelta(minutes=31))) >= 1
        r = http.post(
            "/logowanie/demo",
            data={"subject": CASEWORKER, "next": "/", "csrf_token": csrf_of(form)},
        )
    assert r.status_code == 303, r.text[:300]
    assert start_page(other, r.cookies["koop_session"]) == "/sprawy"
