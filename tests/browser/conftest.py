"""The web front driven in a real Chromium (Debian's package, through Playwright) against the
four services started as processes: fixtures every browser test shares.

- `web`: the web front as its own process in development mode (the demo sign-in), started
  after the services; `start_web(**env)` starts another one (production mode, a short session).
- `browser`: headless Chromium; `visit`: a fresh browser context and page for one test, with
  `sign_in_as(subject)`, and `check(step)` — axe-core on the page (0 serious or critical
  violations) and a screenshot under tests/browser/artifacts/<test>/.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.conftest import PORT_BASE

HERE = Path(__file__).parent
ARTIFACTS = HERE / "artifacts"
AXE = next((HERE / "vendor").glob("axe-core-*.min.js"))
# Ports after the services' (base+0..3), the probe (+4) and the default web front (+5).
# Clear of the ports the integration tests give their own services (PORT_BASE + 8 … + 25):
# these fronts live for the whole session.
EXTRA_PORTS = iter(range(PORT_BASE + 40, PORT_BASE + 48))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-extensions",
    "--no-first-run",
    "--lang=pl-PL",  # date fields show dd.mm.rrrr, as a Polish browser does
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/browser/" in str(item.path):
            item.add_marker(pytest.mark.browser)


@dataclass
class WebFront:
    """A running web front process: its address and its log (read by the no-leak test)."""

    url: str
    proc: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _start_web(env: dict[str, str], log: Path) -> WebFront:
    port = env["KOOP_WEB_PORT"]
    log.parent.mkdir(parents=True, exist_ok=True)
    out = log.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.web"],
        env={**os.environ, **env},
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120  # a shared, loaded machine starts it slowly
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the web front exited ({proc.returncode}); see {log}")
        try:
            if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                return WebFront(url, proc, log)
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise TimeoutError(f"the web front did not start; see {log}")
        time.sleep(0.1)


DEVELOPMENT = {"KOOP_ENV": "development", "KOOP_WEB_COOKIE_SECURE": "false"}


@pytest.fixture(scope="session")
def web(stack: Any) -> Iterator[WebFront]:
    front = _start_web(
        {**DEVELOPMENT, "KOOP_WEB_PORT": os.environ["KOOP_WEB_PORT"]},
        ARTIFACTS / "logs" / "web.log",
    )
    yield front
    front.stop()


@pytest.fixture(scope="session")
def start_web(stack: Any) -> Iterator[Callable[..., WebFront]]:
    """Another web front with its own settings, e.g. start_web(KOOP_ENV="production")."""
    started: list[WebFront] = []

    def start(name: str, **env: str) -> WebFront:
        front = _start_web(
            {"KOOP_WEB_PORT": str(next(EXTRA_PORTS)), **env}, ARTIFACTS / "logs" / f"{name}.log"
        )
        started.append(front)
        return front

    yield start
    for front in started:
        front.stop()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("Debian's chromium is needed for the browser tests: apt-get install chromium")
    async with async_playwright() as p:
        # The date fields' dd.mm.rrrr comes from the browser's own language, which Chromium on
        # Linux takes from LANGUAGE (the context's locale="pl-PL" alone leaves mm/dd/yyyy);
        # Debian's chromium-l10n holds the Polish resources.
        launched = await p.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, env={**os.environ, "LANGUAGE": "pl"}
        )
        yield launched
        await launched.close()


@dataclass
class Visit:
    """One person's browser for one test: pages, sign-in, and a check of every step."""

    page: Page
    context: BrowserContext
    base_url: str
    folder: Path
    steps: int = 0
    urls: list[str] = field(default_factory=list)

    async def goto(self, path: str) -> None:
        await self.page.goto(self.base_url + path)

    async def sign_in_as(self, subject: str, *, then: str = "/") -> None:
        """The development sign-in: the demo person's button on the sign-in page."""
        await self.goto(f"/logowanie?next={then}")
        await self.check("logowanie")
        await self.page.locator(f"form:has(input[name=subject][value='{subject}']) button").click()
        await self.page.wait_for_load_state()

    async def check(self, step: str) -> list[dict[str, Any]]:
        """axe-core on the page as it is now: no serious or critical violations (WCAG 2.1 AA
        rules and best practices); a screenshot of the step. Returns the lesser violations."""
        self.steps += 1
        name = f"{self.steps:02d}-{re.sub(r'[^a-z0-9]+', '-', step.lower())}.png"
        self.folder.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=self.folder / name, full_page=True)
        await self.page.add_script_tag(path=str(AXE))
        result = await self.page.evaluate(
            """async () => await axe.run(document, {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                                 'best-practice']}
            })"""
        )
        violations = result["violations"]
        bad = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert not bad, f"accessibility at step {step!r}: " + "; ".join(
            f"{v['id']} ({v['impact']}): {v['help']} — "
            + ", ".join(str(n["target"]) for n in v["nodes"][:3])
            for v in bad
        )
        return [v for v in violations if v not in bad]

    async def heading(self) -> str:
        return (await self.page.locator("h1").inner_text()).strip()


@pytest.fixture
async def visit(
    browser: Browser, web: WebFront, request: pytest.FixtureRequest
) -> AsyncIterator[Visit]:
    # bypass_csp: axe-core goes in as an inline script, which the site's policy forbids.
    context = await browser.new_context(
        locale="pl-PL", timezone_id="Europe/Warsaw", bypass_csp=True
    )
    page = await context.new_page()
    page.set_default_timeout(15_000)
    found = Visit(page, context, web.url, ARTIFACTS / request.node.name)
    page.on("framenavigated", lambda frame: found.urls.append(frame.url))
    yield found
    await context.close()
