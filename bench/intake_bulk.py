"""Benchmark of intake's bulk import against single openings in the same run, on databases
holding 0, 10,000 and 100,000 cases beforehand, to show how cost grows with size.

    python -m bench.intake_bulk --cases 100000 --preload 10000,100000

For each size: fresh vhost and databases of its own (namespace koop_bulkbench), the four services
as processes (KOOP_BENCH_PORT_BASE, default 8390), the databases filled to that size through the
import (untimed; families without consent, so diagnosis only reads them; all services idle after),
then a few hundred single POST /cases (the baseline), then
one file of --cases households streamed to POST /cases/import as `kooperacja import-cases` does.
Reported: cases/s of each, and until when diagnosis had opened a diagnosis for every imported case
(the chain downstream); the plans and times of the import's per-chunk queries (EXPLAIN ANALYZE).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import httpx

from bench.environment import bench_settings, fresh_databases, fresh_vhost, peak_rss_mb, service_env
from kooperacja import importing, processes
from kooperacja.demo_data import pesel_for
from services.intake import store
from shared.auth import Role, issue_token
from shared.settings import Settings
from shared.topology import queue_name

NAMESPACE = "koop_bulkbench"  # not under kooperacja_bench_, which bench.pipeline drops
PORT_BASE = int(os.environ.get("KOOP_BENCH_PORT_BASE", "8390"))
MEASURED = "1465011"  # Warszawa: the measured import and the single openings
SINGLES = "1418043"  # Piaseczno
PRELOAD = ("1261011", "0663011", "3064011", "0264011")  # Kraków, Lublin, Poznań, Wrocław
FIRST_BIRTH = date(1940, 1, 1)
BIRTH_DAYS = 20_000  # 1940–1994


class People:
    """Households with PESELs never drawn twice in a run."""

    def __init__(self) -> None:
        self.serial = 0

    def household(
        self, gmina: str, external_id: str | None = None, *, consent: bool = True
    ) -> dict[str, Any]:
        n = self.serial
        self.serial += 1
        birth = FIRST_BIRTH + timedelta(days=n % BIRTH_DAYS)
        sex = "FM"[(n // BIRTH_DAYS) % 2]
        pesel = pesel_for(birth, sex, n // (2 * BIRTH_DAYS))
        case: dict[str, Any] = {
            "gmina": gmina,
            "members": [
                {
                    "first_name": "Anna" if sex == "F" else "Jan",
                    "last_name": "Przeniesiona" if sex == "F" else "Przeniesiony",
                    "birth_date": birth.isoformat(),
                    "sex": sex,
                    "pesel": pesel,
                    "contact": {"phone": "+48 600 100 200"},
                },
                {
                    "first_name": "Ola",
                    "last_name": "Dziecko",
                    "birth_date": "2015-05-05",
                    "sex": "F",
                },
            ],
            "reasons": ["1", "4"],
            "notified_by": "self",
            "consent_to_share": consent,
            "interview_summary": "Akta z poprzedniego systemu.",
        }
        if external_id is not None:
            case["external_id"] = external_id
        return case

    def lines(
        self, gmina: str, count: int, prefix: str, *, consent: bool = True
    ) -> Iterator[bytes]:
        for i in range(count):
            case = self.household(gmina, f"{prefix}/{i}", consent=consent)
            yield json.dumps(case).encode() + b"\n"


@dataclass
class Level:
    cases_before: int
    singles: int = 0
    single_per_s: float = 0.0
    single_p95_ms: float = 0.0
    imported: int = 0
    import_s: float = 0.0
    import_per_s: float = 0.0
    diagnosed_s: float = 0.0  # from the import's start until the last diagnosis opened
    diagnosed_per_s: float = 0.0
    intake_peak_rss_mb: float = 0.0
    queries_ms: dict[str, float] = field(default_factory=dict)


def caseworker(settings: Settings, gmina: str) -> str:
    return issue_token(settings, subject="bench", role=Role.CASEWORKER, gmina=gmina)


async def import_stream(settings: Settings, gmina: str, lines: Iterator[bytes]) -> dict[str, Any]:
    async def body() -> AsyncIterator[bytes]:
        batch: list[bytes] = []
        for line in lines:
            batch.append(line)
            if len(batch) == 200:
                yield b"".join(batch)
                batch = []
        yield b"".join(batch)

    async with httpx.AsyncClient(timeout=httpx.Timeout(30, read=None)) as http:
        r = await http.post(
            f"{settings.base_url('intake')}/api/v1/cases/import",
            params={"gmina": gmina},
            content=body(),
            headers={
                "Authorization": f"Bearer {caseworker(settings, gmina)}",
                "Content-Type": "application/x-ndjson",
            },
        )
    r.raise_for_status()
    result: dict[str, Any] = r.json()
    if result["rejected"]:
        raise RuntimeError(f"the benchmark's own lines were rejected: {result['errors'][:3]}")
    return result


async def diagnosed(settings: Settings, gminas: tuple[str, ...]) -> int:
    conn = await asyncpg.connect(settings.database_url("diagnosis"))
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM diagnoses WHERE gmina = ANY($1::text[])", list(gminas)
            )
        )
    finally:
        await conn.close()


async def until_diagnosed(settings: Settings, gminas: tuple[str, ...], count: int) -> float:
    """Wait until diagnosis holds `count` diagnoses in these gminas; the monotonic time then."""
    deadline = time.monotonic() + 3600
    while (found := await diagnosed(settings, gminas)) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{count - found} diagnoses never opened")
        await asyncio.sleep(0.25)
    return time.monotonic()


async def quiet(settings: Settings) -> None:
    """Wait until intake's outbox is empty and no consumer has a message waiting."""
    intake = await asyncpg.connect(settings.database_url("intake"))
    broker = await aio_pika.connect(settings.amqp_url)
    try:
        channel = await broker.channel()
        idle = 0
        while idle < 3:
            waiting = await intake.fetchval("SELECT count(*) FROM outbox")
            for name in processes.SERVICES[1:]:
                queue = await channel.declare_queue(queue_name(name), passive=True)
                waiting += queue.declaration_result.message_count or 0
            idle = idle + 1 if waiting == 0 else 0
            await asyncio.sleep(0.5)
    finally:
        await broker.close()
        await intake.close()


async def preload(settings: Settings, people: People, cases: int) -> None:
    """Fill the databases through the import (untimed) and wait until every service is idle.
    The preloaded families gave no consent, so diagnosis only reads their case.opened.v1 (a
    100,000-case preload through diagnosis would take longer than the measured run)."""
    per_gmina = -(-cases // len(PRELOAD)) if cases else 0
    left = cases
    for gmina in PRELOAD:
        take = min(per_gmina, left)
        if take:
            await import_stream(settings, gmina, people.lines(gmina, take, "pre", consent=False))
        left -= take
    await quiet(settings)


async def singles(settings: Settings, people: People, count: int, level: Level) -> None:
    url = f"{settings.base_url('intake')}/api/v1/cases"
    headers = {"Authorization": f"Bearer {caseworker(settings, SINGLES)}"}
    latencies: list[float] = []
    limit = asyncio.Semaphore(10)
    async with httpx.AsyncClient(timeout=30) as http:

        async def one() -> None:
            async with limit:
                started = time.perf_counter()
                r = await http.post(url, json=people.household(SINGLES), headers=headers)
                r.raise_for_status()
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(count)))
        seconds = time.perf_counter() - started
    level.singles = count
    level.single_per_s = count / seconds
    level.single_p95_ms = statistics.quantiles(latencies, n=20)[18] * 1000
    await until_diagnosed(settings, (SINGLES,), count)


async def measured_import(settings: Settings, people: People, cases: int, level: Level) -> None:
    """The file written first, then streamed by the CLI's own code, as an operator would."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cases.ndjson"
        with path.open("wb") as f:
            f.writelines(people.lines(MEASURED, cases, "OPS"))
        token = caseworker(settings, MEASURED)
        started = time.monotonic()
        response = await asyncio.to_thread(importing.send, settings, path, MEASURED, token)
        imported_at = time.monotonic()
    response.raise_for_status()
    result = response.json()
    assert result["imported"] == cases, importing.render(result)
    done_at = await until_diagnosed(settings, (MEASURED,), cases)
    level.imported = cases
    level.import_s = imported_at - started
    level.import_per_s = cases / level.import_s
    level.diagnosed_s = done_at - started
    level.diagnosed_per_s = cases / level.diagnosed_s


# The import's per-chunk reads, with 500 values drawn from the database (as a re-run meets
# them), and the list a caseworker reads (GET /cases, first page).
QUERIES = {
    "open cases by PESEL (500)": (
        store.OPEN_CASES_BY_PESEL,
        "SELECT array_agg(pesel) FROM (SELECT pesel FROM members WHERE pesel IS NOT NULL "
        "ORDER BY random() LIMIT 500) s",
    ),
    "external references (500)": (
        store.EXTERNAL_REFS,
        "SELECT array_agg(external_id) FROM (SELECT external_id FROM case_external_refs "
        "ORDER BY random() LIMIT 500) s",
    ),
}


async def explain(settings: Settings, show: bool) -> dict[str, float]:
    conn = await asyncpg.connect(settings.database_url("intake"))
    timings = {}
    try:
        await conn.execute("ANALYZE")
        for name, (query, sample) in QUERIES.items():
            values = await conn.fetchval(sample)
            plan = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {query}", MEASURED, values)
            root = json.loads(plan)[0]
            timings[name] = root["Execution Time"]
            if show:
                text = await conn.fetch(f"EXPLAIN ANALYZE {query}", MEASURED, values)
                lines = (re.sub(r"'\{[^}]*\}'", "'{…}'", r[0]) for r in text)
                print(f"  -- {name}\n" + "\n".join(f"     {line}" for line in lines))
    finally:
        await conn.close()
    return timings


async def one_level(args: argparse.Namespace, cases_before: int) -> Level:
    settings = bench_settings(NAMESPACE)
    fresh_vhost(NAMESPACE)
    await fresh_databases(settings)
    os.environ.update(service_env(settings, PORT_BASE))
    procs = processes.start(settings, env=service_env(settings, PORT_BASE))
    level = Level(cases_before=cases_before)
    people = People()
    try:
        await asyncio.to_thread(processes.wait_ready, settings, procs)
        await preload(settings, people, cases_before)
        await singles(settings, people, args.singles, level)
        await measured_import(settings, people, args.cases, level)
        level.intake_peak_rss_mb = peak_rss_mb(procs["intake"].pid)
        level.queries_ms = await explain(settings, args.plans)
    finally:
        processes.stop(procs)
    return level


def report(level: Level) -> None:
    print(
        f"{level.cases_before:>7,} cases before: single POST {level.single_per_s:,.0f} cases/s"
        f" (p95 {level.single_p95_ms:.0f} ms, {level.singles} at 10 in flight);"
        f" import of {level.imported:,} in {level.import_s:.1f}s = {level.import_per_s:,.0f}"
        f" cases/s ({level.import_per_s / level.single_per_s:.1f}× single);"
        f" all diagnosed after {level.diagnosed_s:.1f}s = {level.diagnosed_per_s:,.0f} cases/s;"
        f" intake peak RSS {level.intake_peak_rss_mb:.0f} MB"
    )
    print("   queries: " + ", ".join(f"{k} {v:.2f} ms" for k, v in level.queries_ms.items()))


async def main(args: argparse.Namespace) -> list[Level]:
    levels = []
    for cases_before in (0, *args.preload):
        level = await one_level(args, cases_before)
        report(level)
        levels.append(level)
    return levels


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.intake_bulk", description=__doc__)
    parser.add_argument("--cases", type=int, default=10_000, help="households in the import")
    parser.add_argument("--singles", type=int, default=300, help="single POSTs (the baseline)")
    parser.add_argument(
        "--preload",
        type=lambda v: [int(x) for x in v.split(",") if x],
        default=[10_000],
        help="database sizes (cases) to repeat the run at, after the run on empty ones",
    )
    parser.add_argument("--plans", action="store_true", help="print the EXPLAIN ANALYZE plans")
    parser.add_argument("--out", default="bench/results/intake_bulk.json")
    args = parser.parse_args()
    results = asyncio.run(main(args))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps([asdict(x) for x in results], indent=2))
    print(f"written to {args.out}")
