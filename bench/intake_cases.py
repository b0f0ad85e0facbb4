"""Benchmark of intake and diagnosis on a running stack (`kooperacja up`): how fast cases open
over HTTP, how soon each one's diagnosis is open for the PZK, how fast audited reads are.

    python bench/intake_cases.py --cases 500 --concurrency 10

Uses the KOOP_* settings of the stack; opens real cases in gmina 0601192 (Zalesie).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from datetime import date
from typing import Any

import httpx

from kooperacja.demo_data import pesel_for
from shared.auth import Role, issue_token
from shared.settings import get_settings

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


async def run(cases: int, concurrency: int) -> None:
    settings = get_settings()
    intake = f"{settings.base_url('intake')}/api/v1"
    diagnosis = f"{settings.base_url('diagnosis')}/api/v1"
    caseworker = token(Role.CASEWORKER, gmina=GMINA)
    coordinator = token(Role.COORDINATOR, gmina=GMINA)
    limit = asyncio.Semaphore(concurrency)
    opened: dict[str, float] = {}
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
                    opened[r.json()["case_id"]] = time.perf_counter()
                else:
                    refused += 1  # a PESEL drawn twice: the duplicate check at work

        lags: list[float] = []
        seen: set[str] = set()

        async def watch_diagnoses() -> None:
            # Polls while cases open, so each lag is close to the real hop through the broker.
            while len(seen) < cases - refused:
                r = await http.get(
                    f"{diagnosis}/diagnoses", params={"status": "open"}, headers=coordinator
                )
                now = time.perf_counter()
                for d in r.json():
                    case_id = d["case_id"]
                    if case_id in opened and case_id not in seen:
                        seen.add(case_id)
                        lags.append(now - opened[case_id])
                await asyncio.sleep(0.02)

        watcher = asyncio.create_task(watch_diagnoses())
        started = time.perf_counter()
        await asyncio.gather(*(open_one(i) for i in range(cases)))
        elapsed = time.perf_counter() - started
        print(
            f"opened {len(opened)} cases ({refused} refused as duplicates) in {elapsed:.2f}s:"
            f" {len(opened) / elapsed:.0f} cases/s with {concurrency} in flight;"
            f" median {statistics.median(latencies) * 1000:.1f} ms,"
            f" p95 {statistics.quantiles(latencies, n=20)[18] * 1000:.1f} ms per request"
        )
        await asyncio.wait_for(watcher, timeout=300)
        print(
            "case opened (HTTP answer) to its diagnosis listed as open (polled every 20 ms):"
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
