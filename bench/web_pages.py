"""Page speed of the web front: server time per page, the API calls it waits on, and the page's
own share (composing what the APIs answered and rendering it), on the demo region and again on
databases holding many more cases.

    python -m bench.web_pages --preload 10000 --complete 3000 --requests 30 --rounds 3
    python -m bench.web_pages ... --against /tmp/main   # and a checkout of main, alternately

The four services and the web front run as processes on a vhost and databases of the benchmark's
own (namespace koop_webbench, or KOOP_WEBBENCH_NAMESPACE; ports from KOOP_BENCH_PORT_BASE,
default 8490). The demo region is loaded as `kooperacja demo` loads it; each demo person signs
in through the development sign-in and, after a warm-up, every page of their role is requested
`--requests` times, one request at a time, split into `--rounds` rounds that go over all pages in
turn (each round starting at another page), so a burst of load from elsewhere on a shared machine
falls on every page a little rather than deciding one page's figure; each round's share is
reported as the spread. The web front times itself in each answer's `Server-Timing` header:
`total` (the request in the web process), `api` (the time it waited on the services,
overlapping calls counted once), `session` (reading and writing the session in the web's own
database) and `page` (the rest: composition and rendering). Then `--preload` households are
imported into the demo people's gmina (with consent, so diagnosis opens each), `--complete` of
their diagnoses are completed over HTTP (so referrals route them; the labour office's capacity is
raised to take them), and the pages are measured again. Target: `page` at most 25 % of `total`
(p95 over all rounds) at 10,000 cases, reported page by page as met or MISSED.

`--against DIR` runs a second web front from another checkout (e.g. main before a change) on
the same services and data, and measures each page on both fronts one after the other, round
by round: a before/after comparison in one sitting that load from elsewhere hits alike.
Benchmarks are never tests: this prints and writes JSON (`--out`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.environment import (
    bench_settings,
    fresh_databases,
    fresh_vhost,
    percentile,
    service_env,
)
from bench.intake_bulk import People, import_stream, quiet, until_diagnosed
from kooperacja import demo, demo_data, processes
from shared.auth import Role, issue_token
from shared.settings import Settings

NAMESPACE = os.environ.get("KOOP_WEBBENCH_NAMESPACE", "koop_webbench")
PORT_BASE = int(os.environ.get("KOOP_BENCH_PORT_BASE", "8490"))
GMINA = "0601032"  # the demo people's gmina: its caseworker, team member and coordinator
LABOUR_OFFICE = "Powiatowy Urząd Pracy w Białej Podlaskiej"  # the demo institution's staff
TARGET_PAGE_SHARE = 0.25

# Who reads which pages; {placeholders} are filled with ids found in the services' answers.
PEOPLE = {
    "caseworker": "demo-anna-kowalczyk",
    "team_member": "demo-ewa-sadowska",
    "coordinator": "demo-marek-wrobel",
    "institution_staff": "demo-joanna-pietrzak",
    "analyst": "demo-krzysztof-baran",
    "operator": "demo-agnieszka-lis",
}
PAGES: list[tuple[str, str, str]] = [
    ("caseworker", "Sprawy", "/sprawy"),
    ("caseworker", "sprawa", "/sprawy/{case_id}"),
    ("team_member", "Diagnozy do uzupełnienia", "/diagnozy"),
    ("team_member", "diagnoza", "/diagnozy/{diagnosis_id}"),
    ("coordinator", "Pulpit koordynatora", "/pulpit"),
    ("coordinator", "skierowania po terminie", "/pulpit/po-terminie"),
    ("coordinator", "zespół PZK", "/pulpit/zespol"),
    ("institution_staff", "Skierowania", "/skierowania"),
    ("institution_staff", "skierowanie", "/skierowania/{referral_id}"),
    ("analyst", "Raporty", "/raporty"),
    ("analyst", "Raporty według powiatów", "/raporty?by=powiat"),
    ("operator", "Stan systemu", "/stan-systemu"),
]


@dataclass
class PageTiming:
    role: str
    page: str
    path: str
    status: int
    requests: int = 0  # measured, over all rounds
    api_calls: int = 0  # in one answer (the last)
    server_ms_p50: float = 0.0
    server_ms_p95: float = 0.0
    api_ms_p50: float = 0.0
    api_ms_p95: float = 0.0
    session_ms_p50: float = 0.0  # reading and writing the session in the web's database
    session_ms_p95: float = 0.0
    page_ms_p50: float = 0.0
    page_ms_p95: float = 0.0
    client_ms_p95: float = 0.0
    page_share_p95: float = 0.0  # page p95 / server p95, all rounds together
    page_share_mean: float = 0.0  # the page's time over the server's, all requests
    round_shares: list[float] = field(default_factory=list)  # page share p95 of each round
    met: bool = False  # page_share_p95 within the target
    failed: int = 0  # answers other than 200 during the measured run (not timed)


@dataclass
class Samples:
    """One page's measured requests, added to round by round."""

    server: list[float] = field(default_factory=list)
    api: list[float] = field(default_factory=list)
    session: list[float] = field(default_factory=list)
    own: list[float] = field(default_factory=list)
    client: list[float] = field(default_factory=list)


@dataclass
class Level:
    name: str
    cases: int  # in the demo people's gmina, as intake counts them
    referrals_of_institution: int
    diagnoses_open: int
    pages: list[PageTiming] = field(default_factory=list)
    # With --against: the same pages on the other checkout's web front, measured alternately.
    against_pages: list[PageTiming] = field(default_factory=list)
    preload_s: float = 0.0


def server_timing(header: str) -> dict[str, tuple[float, str]]:
    """`api;dur=12.5;desc="3 calls", page;dur=2.1` → {"api": (12.5, "3 calls"), ...}."""
    found = {}
    for part in header.split(","):
        name, *params = (p.strip() for p in part.split(";"))
        values = dict(p.split("=", 1) for p in params if "=" in p)
        if name:
            found[name] = (float(values.get("dur", "nan")), values.get("desc", "").strip('"'))
    return found


class Browser:
    """One signed-in person: a cookie jar and the web front's address."""

    def __init__(self, base: str) -> None:
        self.http = httpx.AsyncClient(base_url=base, timeout=60, follow_redirects=False)

    async def sign_in(self, subject: str) -> None:
        page = await self.http.get("/logowanie")
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        if match is None:
            raise RuntimeError("the sign-in page has no CSRF token")
        r = await self.http.post(
            "/logowanie/demo",
            data={"subject": subject, "next": "/", "csrf_token": match.group(1)},
        )
        if r.status_code != 303:
            raise RuntimeError(f"signing in as {subject}: {r.status_code} {r.text[:300]}")

    async def close(self) -> None:
        await self.http.aclose()


async def warm_up(browser: Browser, path: str) -> int:
    """Connections, template compilation, caches; the page's status."""
    for _ in range(3):
        r = await browser.http.get(path)
    return r.status_code


async def measure_round(
    browser: Browser, timing: PageTiming, samples: Samples, requests: int
) -> float:
    """`requests` requests of one page, one after the other; this round's page share (p95)."""
    server, own = [], []
    for _ in range(requests):
        started = time.perf_counter()
        r = await browser.http.get(timing.path)
        samples.client.append((time.perf_counter() - started) * 1000)
        if r.status_code != 200:
            # A service that did not answer in time on a loaded machine (503): counted and
            # reported, not timed; the run goes on.
            timing.failed += 1
            continue
        marks = server_timing(r.headers.get("server-timing", ""))
        if "total" not in marks:
            raise RuntimeError(f"{timing.path}: no Server-Timing total in the answer")
        total, api = marks["total"][0], marks.get("api", (0.0, ""))[0]
        session = marks.get("session", (0.0, ""))[0]
        server.append(total)
        own.append(marks.get("page", (total - api - session, ""))[0])
        samples.api.append(api)
        samples.session.append(session)
        calls = marks.get("api", (0.0, "0 calls"))[1].split()
        timing.api_calls = int(calls[0]) if calls else 0
    samples.server += server
    samples.own += own
    if not server:
        return float("nan")
    return percentile(own, 95) / percentile(server, 95)


def summarise(timing: PageTiming, samples: Samples) -> None:
    timing.requests = len(samples.server)
    if not samples.server:
        return  # nothing answered: not met, and said so
    timing.server_ms_p50, timing.server_ms_p95 = (
        percentile(samples.server, 50),
        percentile(samples.server, 95),
    )
    timing.api_ms_p50, timing.api_ms_p95 = percentile(samples.api, 50), percentile(samples.api, 95)
    timing.session_ms_p50, timing.session_ms_p95 = (
        percentile(samples.session, 50),
        percentile(samples.session, 95),
    )
    timing.page_ms_p50, timing.page_ms_p95 = (
        percentile(samples.own, 50),
        percentile(samples.own, 95),
    )
    timing.client_ms_p95 = percentile(samples.client, 95)
    timing.page_share_p95 = timing.page_ms_p95 / timing.server_ms_p95
    timing.page_share_mean = sum(samples.own) / sum(samples.server)
    timing.met = timing.page_share_p95 <= TARGET_PAGE_SHARE


class Services:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.env = {
            **service_env(settings, PORT_BASE),
            "KOOP_WEB_PORT": str(PORT_BASE + len(processes.SERVICES)),
            "KOOP_ENV": "development",
            "KOOP_WEB_COOKIE_SECURE": "false",  # plain http on localhost
        }
        os.environ.update(self.env)  # base_url reads the ports from this process's environment
        self.procs: dict[str, Any] = {}

    def start(self, against: Path | None) -> None:
        names = (*processes.SERVICES, "web")
        self.procs = processes.start(self.settings, env=self.env, only=names)
        if against is not None:
            # The other checkout's web front, run from its own folder (its `services` package
            # comes first on the path) on the next port, against the same services.
            self.procs["against"] = subprocess.Popen(
                [sys.executable, "-m", "services.web"],
                cwd=against,
                env={**os.environ, **self.env, "KOOP_WEB_PORT": str(self.against_port)},
            )
        # A loaded machine starts them slowly.
        processes.wait_ready(self.settings, {k: self.procs[k] for k in names}, timeout=300)
        if against is not None:
            wait_answering(self.against_url, self.procs["against"], timeout=300)

    @property
    def against_port(self) -> int:
        return PORT_BASE + len(processes.SERVICES) + 1

    @property
    def against_url(self) -> str:
        return f"http://{self.settings.http_host}:{self.against_port}"

    def stop(self) -> None:
        processes.stop(self.procs)


def wait_answering(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the web front for {url} exited with code {proc.returncode}")
        try:
            if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} not ready after {timeout:.0f}s")
        time.sleep(0.2)


def token(settings: Settings, role: Role, **scope: Any) -> dict[str, str]:
    return {"Authorization": "Bearer " + issue_token(settings, subject="bench", role=role, **scope)}


async def ids_for_pages(settings: Settings, http: httpx.AsyncClient) -> dict[str, str]:
    """A case, an open diagnosis and a referral of the labour office that the pages open."""
    base = {s: f"{settings.base_url(s)}/api/v1" for s in processes.SERVICES}
    coordinator = token(settings, Role.COORDINATOR, gmina=GMINA)
    cases = (
        await http.get(
            f"{base['intake']}/cases",
            params={"gmina": GMINA, "limit": 1},
            headers=token(settings, Role.CASEWORKER, gmina=GMINA),
        )
    ).json()
    diagnoses = (
        await http.get(
            f"{base['diagnosis']}/diagnoses", params={"status": "open"}, headers=coordinator
        )
    ).json()
    office = await labour_office(settings, http)
    staff = token(settings, Role.INSTITUTION_STAFF, institution=office)
    referrals = (await http.get(f"{base['referrals']}/referrals", headers=staff)).json()
    found = {"institution_id": office}
    if cases:
        found["case_id"] = cases[0]["case_id"]
    if diagnoses:
        found["diagnosis_id"] = diagnoses[0]["diagnosis_id"]
    if referrals:
        found["referral_id"] = referrals[0]["referral_id"]
    return found


async def labour_office(settings: Settings, http: httpx.AsyncClient) -> str:
    r = await http.get(
        f"{settings.base_url('referrals')}/api/v1/institutions",
        headers=token(settings, Role.COORDINATOR, powiat=demo_data.POWIAT),
    )
    return next(str(i["institution_id"]) for i in r.json() if i["name"] == LABOUR_OFFICE)


async def measure_level(
    name: str,
    settings: Settings,
    fronts: list[str],
    requests: int,
    rounds: int,
    preload_s: float = 0.0,
) -> Level:
    """Every page on each web front in `fronts` (this checkout's first); with two, each page
    is measured on one and then on the other, alternating which goes first."""
    async with httpx.AsyncClient(timeout=120) as http:
        ids = await ids_for_pages(settings, http)
        level = Level(
            name=name,
            cases=await count(
                settings, "intake", "SELECT count(*) FROM cases WHERE gmina = $1", GMINA
            ),
            referrals_of_institution=await count(
                settings,
                "referrals",
                "SELECT count(*) FROM referrals WHERE institution_id = $1",
                ids["institution_id"],
            ),
            diagnoses_open=await count(
                settings,
                "diagnosis",
                "SELECT count(*) FROM diagnoses WHERE gmina = $1 AND status = 'open'",
                GMINA,
            ),
            preload_s=preload_s,
        )
    browsers: dict[tuple[int, str], Browser] = {}
    try:
        for front, web in enumerate(fronts):
            for role, subject in PEOPLE.items():
                browsers[front, role] = Browser(web)
                await browsers[front, role].sign_in(subject)
        timed: list[list[tuple[int, PageTiming, Samples]]] = []  # a page on every front
        for role, page, template in PAGES:
            try:
                path = template.format(**ids)
            except KeyError:
                continue  # nothing of that kind to open on this level
            on_fronts = []
            for front in range(len(fronts)):
                status = await warm_up(browsers[front, role], path)
                timing = PageTiming(role, page, path, status=status)
                (level.pages if front == 0 else level.against_pages).append(timing)
                on_fronts.append((front, timing, Samples()))
            if all(timing.status == 200 for _, timing, _ in on_fronts):
                timed.append(on_fronts)
        # Round by round, each page in turn (in another order each round), so a burst of load
        # from elsewhere on the machine falls on every page a little, not on one page wholly;
        # with two fronts, on both alike.
        per_round = max(1, requests // rounds)
        for number in range(rounds):
            shift = number % len(timed) if timed else 0
            for on_fronts in timed[shift:] + timed[:shift]:
                order = on_fronts if number % 2 == 0 else on_fronts[::-1]
                for front, timing, samples in order:
                    browser = browsers[front, timing.role]
                    timing.round_shares.append(
                        await measure_round(browser, timing, samples, per_round)
                    )
        for on_fronts in timed:
            for _, timing, samples in on_fronts:
                summarise(timing, samples)
        for label, pages in (("this checkout", level.pages), ("against", level.against_pages)):
            if pages:
                if level.against_pages:
                    print(f" {label}:")
                for timing in pages:
                    print_page(timing)
    finally:
        for browser in browsers.values():
            await browser.close()
    return level


async def count(settings: Settings, service: str, query: str, *args: Any) -> int:
    conn = await asyncpg.connect(settings.database_url(service))
    try:
        try:
            return int(await conn.fetchval(query, *args))
        except asyncpg.UndefinedColumnError:
            return -1  # a table of another shape: the count is not shown
    finally:
        await conn.close()


async def preload(settings: Settings, cases: int, complete: int) -> float:
    """`cases` households into the demo people's gmina through the import, their diagnoses
    opened; `complete` of those completed by the team (employment: the labour office's two
    supports), routed, and every service idle again. Returns the seconds it took."""
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=120) as http:
        office = await labour_office(settings, http)
        r = await http.patch(
            f"{settings.base_url('referrals')}/api/v1/institutions/{office}",
            headers=token(settings, Role.COORDINATOR, powiat=demo_data.POWIAT),
            json={"capacity": 10_000},
        )
        r.raise_for_status()
        before = await count(
            settings, "diagnosis", "SELECT count(*) FROM diagnoses WHERE gmina = $1", GMINA
        )
        await import_stream(settings, GMINA, People().lines(GMINA, cases, "bench"))
        await until_diagnosed(settings, (GMINA,), before + cases)
        conn = await asyncpg.connect(settings.database_url("diagnosis"))
        try:
            rows = await conn.fetch(
                "SELECT diagnosis_id FROM diagnoses WHERE gmina = $1 AND status = 'open'"
                " ORDER BY diagnosis_id LIMIT $2",
                GMINA,
                complete,
            )
        finally:
            await conn.close()
        await complete_all(settings, http, office, [r["diagnosis_id"] for r in rows])
    await quiet(settings)
    return time.monotonic() - started


async def complete_all(
    settings: Settings, http: httpx.AsyncClient, office: str, diagnoses: list[Any]
) -> None:
    base = f"{settings.base_url('diagnosis')}/api/v1/diagnoses"
    member = token(settings, Role.TEAM_MEMBER, gmina=GMINA, institution=office)
    coordinator = token(settings, Role.COORDINATOR, gmina=GMINA)
    limit = asyncio.Semaphore(8)

    async def one(diagnosis_id: Any) -> None:
        async with limit:
            r = await http.post(
                f"{base}/{diagnosis_id}/assessments",
                headers=member,
                json={
                    "need_area": "employment",
                    "severity": 2,
                    "recommendations": [
                        {"support_type": "vocational_counselling", "priority": 1},
                        {"support_type": "training", "priority": 2},
                    ],
                },
            )
            r.raise_for_status()
            r = await http.post(f"{base}/{diagnosis_id}/complete", headers=coordinator)
            r.raise_for_status()

    await asyncio.gather(*(one(d) for d in diagnoses))


def print_page(t: PageTiming) -> None:
    if t.status != 200:
        print(f"  {t.role:<18} {t.page:<26} {t.path:<40} answered {t.status}: skipped")
        return
    if not t.requests:
        print(f"  {t.page:<26} no answer of 200 in {t.failed} requests: MISSED")
        return
    shares = [v for v in t.round_shares if v == v] or [float("nan")]  # without empty rounds
    spread = "–".join(f"{v:.0%}" for v in (min(shares), max(shares)))
    print(
        f"  {t.page:<26} server {t.server_ms_p50:6.1f}/{t.server_ms_p95:6.1f} ms;"
        f" API {t.api_ms_p50:6.1f}/{t.api_ms_p95:6.1f} ({t.api_calls:2d} calls);"
        f" session {t.session_ms_p50:4.1f}/{t.session_ms_p95:4.1f};"
        f" page {t.page_ms_p50:5.1f}/{t.page_ms_p95:5.1f} ms = {t.page_share_p95:4.0%} of p95"
        f" (rounds {spread}, mean {t.page_share_mean:3.0%})"
        f" {'met' if t.met else 'MISSED'}"
        + (f"; {t.failed} answers not 200, not timed" if t.failed else "")
    )


def verdict(level: Level, pages: list[PageTiming]) -> str:
    measured = [t for t in pages if t.status == 200]
    missed = [t for t in measured if not t.met]
    head = (
        f"target: the page's own share at most {TARGET_PAGE_SHARE:.0%} of its server time (p95)"
        f" on '{level.name}': "
    )
    if not missed:
        return head + f"met by every page ({len(measured)})"
    return head + (
        f"met by {len(measured) - len(missed)} of {len(measured)}, missed by "
        + ", ".join(f"{t.page} ({t.page_share_p95:.0%})" for t in missed)
    )


async def run(args: argparse.Namespace) -> list[Level]:
    settings = bench_settings(NAMESPACE)
    fresh_vhost(NAMESPACE)
    await fresh_databases(settings)
    services = Services(settings)
    fronts = [settings.base_url("web")]
    if args.against:
        fronts.append(services.against_url)
    levels = []
    try:
        await asyncio.to_thread(services.start, args.against)
        await asyncio.to_thread(demo.run_demo, settings, args.demo_cases)
        await quiet(settings)
        print(
            f"demo region ({args.demo_cases} cases pushed), {args.requests} requests per page"
            f" in {args.rounds} rounds; ms p50/p95:"
        )
        levels.append(await measure_level("demo", settings, fronts, args.requests, args.rounds))
        if args.preload:
            seconds = await preload(settings, args.preload, args.complete)
            print(
                f"preloaded {args.preload:,} cases into {GMINA} ({args.complete:,} diagnoses"
                f" completed) in {seconds:.0f}s; {args.requests} requests per page in"
                f" {args.rounds} rounds; ms p50/p95:"
            )
            name = f"{args.preload} cases"
            levels.append(
                await measure_level(name, settings, fronts, args.requests, args.rounds, seconds)
            )
    finally:
        await asyncio.to_thread(services.stop)
    for level in levels:
        print(verdict(level, level.pages))
        if level.against_pages:
            print("  against " + verdict(level, level.against_pages))
    return levels


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.web_pages", description=__doc__)
    parser.add_argument("--requests", type=int, default=30, help="measured requests per page")
    parser.add_argument(
        "--rounds", type=int, default=3, help="the requests split into rounds over all pages"
    )
    parser.add_argument(
        "--against",
        type=Path,
        help="another checkout (e.g. `git worktree add /tmp/main main`) whose web front is"
        " measured alternately with this one's, on the same services and data",
    )
    parser.add_argument("--demo-cases", type=int, default=8, help="cases `kooperacja demo` pushes")
    parser.add_argument("--preload", type=int, default=10_000, help="cases imported; 0: none")
    parser.add_argument("--complete", type=int, default=3_000, help="of those, diagnoses completed")
    parser.add_argument("--out", default="bench/results/web_pages.json")
    args = parser.parse_args()
    results = asyncio.run(run(args))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps([asdict(level) for level in results], indent=2))
    print(f"written to {args.out}")
