"""Reporting's case queries with a transferred case's place found by the day, beside the same
queries reading every case where it is now (the SQL before transfers were followed), on a
scratch database of N cases of which M moved to another gmina; the median of R runs each.

    python -m bench.reporting_transfers --cases 200000 --moved 2000 --repeats 5
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import date
from pathlib import Path

import asyncpg

from services.reporting import store
from services.reporting.disclosure import hmac_pads
from shared.db import prepare_database

SERVER = "postgresql://postgres@127.0.0.1:5432"
DATABASE = "bench_reporting_transfers"


async def fill(conn: asyncpg.Connection, cases: int, moved: int) -> None:
    await conn.execute("TRUNCATE case_facts, case_transfer_facts")
    await conn.execute(
        """INSERT INTO case_facts (case_id, gmina, powiat, region, variant, opened_on,
                                   household_size, age_bands, reasons, notified_by, place_seq)
           SELECT gen_random_uuid(), '06010' || lpad((i % 9 + 1)::text, 2, '0'), '0601', '06',
                  'rural', date '2024-01-01' + (i % 600), 3, '{"30-44": 2, "6-17": 1}',
                  '{1,9}', 'school', 1
           FROM generate_series(1, $1::int) i""",
        cases,
    )
    await conn.execute(
        """WITH moved AS (SELECT case_id, gmina FROM case_facts ORDER BY case_id LIMIT $1)
           INSERT INTO case_transfer_facts (case_id, transferred_on, from_gmina, to_gmina,
               from_powiat, from_region, from_variant, to_powiat, to_region, to_variant,
               sequence)
           SELECT case_id, date '2025-06-01', gmina, '0602011', '0601', '06', 'rural', '0602',
                  '06', 'urban', 2 FROM moved""",
        moved,
    )
    await conn.execute(
        """UPDATE case_facts c SET gmina = t.to_gmina, powiat = t.to_powiat,
                  variant = t.to_variant, transferred_on = t.transferred_on, place_seq = 2
           FROM case_transfer_facts t WHERE t.case_id = c.case_id"""
    )
    await conn.execute("ANALYZE")


async def main(cases: int, moved: int, repeats: int) -> None:
    url = f"{SERVER}/{DATABASE}"
    await prepare_database(url, "reporting", Path("services/reporting/migrations"))
    conn = await asyncpg.connect(url)
    try:
        await fill(conn, cases, moved)
        pads = hmac_pads(b"a bench secret of thirty-two bytes!")
        for report in ("cases", "indicators"):
            for scope in ({"region": ["06"]}, {"gmina": "0601011"}):
                where = store.Filter(**scope, as_of=date(2025, 12, 31), key_pads=pads)
                after = store._aggregate(store.RECORDS[report])
                before = after.replace(store._CASES, "case_facts")
                for name, sql in (("current place", before), ("place on the day", after)):
                    times = []
                    for _ in range(repeats):
                        start = time.perf_counter()
                        await store._fetch(conn, sql, where, "gmina")
                        times.append(time.perf_counter() - start)
                    median = statistics.median(times) * 1000
                    print(f"{report:10} by {next(iter(scope)):6} {name:16} {median:9.1f} ms")
    finally:
        await conn.close()
        admin = await asyncpg.connect(f"{SERVER}/postgres")
        await admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--moved", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.cases, args.moved, args.repeats))
