"""Benchmark of intake and diagnosis on a running stack (`kooperacja up`): how fast cases open
over HTTP, how soon each one's diagnosis is open for the PZK, how fast audited reads are.

    python bench/intake_cases.py --cases 500 --concurrency 10

Uses the KOOP_* settings of the stack; opens real cases in gmina 0601192 (Zalesie).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from kooperacja.demo_data import pesel_for
from shared.auth import Role, issue_token
from shared.settings import get_settings

# Run as a script on a developer machine: the built-in token secret.
os.environ.setdefault("KOOP_ENV", "development")

GMINA = "0601192"


def token(role: Role, **scope: Any) -> dict[str, str]:
    signed = issue_token(get_settings(), subject="bench", role=role, **scope)
    return {"Authorization": f"Bearer {signed}"}


# Each run draws its own PESEL serial, so reruns on one stack open new people.
RUN_SERIAL = random.randrange(5000)


def household(serial: int) -> dict[str, Any]:
    # Distinct dates of birth for up to 2,100 serials (lcm of 50, 12 and 28).
    birth = date(1950 + serial % 50, 1 + serial % 12, 1 + serial % 28)
    return {
        "gmina": GMINA,
        "members": [
            {
                "first_name": "Anna",
                "last_name": "Testowa",
                "birth_date": birth.isoformat(),
                "sex": "F",
                "pesel": pesel_for(birth, "F", RUN_SERIAL),
            },
            {"first_name": "Jan", "last_name": "Testowy", "birth_date": "2015-05-05", "sex": "M"},
        ],
        "reasons": ["1", "4"],
        "notified_by": "self",
        "consent_to_share": True,
    }


async def diagnosis_lags(case_ids: list[str]) -> list[float]:
    """Seconds from each case's commit in intake to its diagnosis's commit, read from the two
    databases (one PostgreSQL server, one clock) once every diagnosis is there."""
    settings = get_settings()
    ids = [UUID(c) for c in case_ids]
    intake_db = await asyncpg.connect(settings.database_url("intake"))
    diagnosis_db = await asyncpg.connect(settings.database_url("diagnosis"))
    try:
        deadline = time.monotonic() + 300
        query = "SELECT case_id, opened_at FROM diagnoses WHERE case_id = ANY($1::uuid[])"
        while len(diagnosed := await diagnosis_db.fetch(query, ids)) < len(ids):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(ids) - len(diagnosed)} diagnoses never opened")
            await asyncio.sleep(0.5)
        created = dict(
            await intake_db.fetch(
                "SELECT case_id, created_at FROM cases WHERE case_id = ANY($1::uuid[])", ids
            )
        )
        return [(d["opened_at"] - created[d["case_id"]]).total_seconds() for d in diagnosed]
    finally:
        await intake_db.close()
        await diagnosis_db.close()


async def run(cases: int, concurrency: int) -> None:
    settings = get_settings()
    intake = f"{settings.base_url('intake')}/api/v1"
    caseworker = token(Role.CASEWORKER, gmina=GMINA)
    limit = asyncio.Semaphore(concurrency)
    opened: list[str] = []
    latencies: list[float] = []
    refused = 0
    async with httpx.AsyncClient(timeout=30) as http:

        async def open_one(serial: int) -> None:
            nonlocal refused
            async with limit:
                started = time.perf_counter()
                r = await http.post(f"{intake}/cases", json=household(serial), headers=caseworker)
                latencies.append(time.perf_counter() - started)
                if r.status_code == 201:
                    opened.append(r.json()["case_id"])
                else:
                    refused += 1  # a PESEL drawn twice: the duplicate check at work

        started = time.perf_counter()
        await asyncio.gather(*(open_one(i) for i in range(cases)))
        elapsed = time.perf_counter() - started
        print(
            f"opened {len(opened)} cases ({refused} refused as duplicates) in {elapsed:.2f}s:"
            f" {len(opened) / elapsed:.0f} cases/s with {concurrency} in flight;"
            f" median {statistics.median(latencies) * 1000:.1f} ms,"
            f" p95 {statistics.quantiles(latencies, n=20)[18] * 1000:.1f} ms per request"
        )
        lags = await diagnosis_lags(opened)
        print(
            "case opened in intake to its diagnosis opened (transaction starts, one clock):"
            f" median {statistics.median(lags) * 1000:.0f} ms, max {max(lags) * 1000:.0f} ms"
        )

        reads: list[float] = []
        ids = list(opened)[:200]

        async def read_one(case_id: str) -> None:
            async with limit:
                t = time.perf_counter()
                r = await http.get(
                    f"{intake}/cases/{case_id}/persons",
                    params={"reason": "benchmark"},
                    headers=caseworker,
                )
                r.raise_for_status()
                reads.append(time.perf_counter() - t)

        started = time.perf_counter()
        await asyncio.gather(*(read_one(c) for c in ids))
        elapsed = time.perf_counter() - started
        print(
            f"{len(ids)} audited reads of personal data in {elapsed:.2f}s:"
            f" {len(ids) / elapsed:.0f} reads/s, median {statistics.median(reads) * 1000:.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(run(args.cases, args.concurrency))


if __name__ == "__main__":
    main()
