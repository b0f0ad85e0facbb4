"""Finding a family at scale: the case-file search's queries on an intake database holding
many cases, beside the PESEL lookup of an opening's duplicate check (the baseline, an index
probe) measured in the same run.

    python -m bench.intake_search --cases 100000 --gmina-share 0.25

Loads the cases straight into a fresh intake database (migrations applied, rows by COPY), a
quarter of them (--gmina-share) in one gmina, then times each query many times and prints the
median and 95th percentile in milliseconds and the plan's top node.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from datetime import date, timedelta
from pathlib import Path
from uuid import uuid4

import asyncpg

from bench.environment import NAMESPACE
from services.intake import casefile_store, finding, store
from shared.db import ensure_database, migrate
from shared.settings import Settings
from shared.teryt import terc

SURNAMES = ["Nowak", "Kowalska", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamińska", "Lewandowski",
            "Zieliński", "Szymańska", "Woźniak", "Dąbrowski", "Kozłowska", "Jankowski",
            "Mazur", "Kwiatkowska", "Krawczyk", "Piotrowski", "Grabowska", "Nowakowski",
            "Pawłowska", "Michalski", "Nowicka", "Adamczyk", "Dudek", "Zając", "Wieczorek",
            "Jabłoński", "Król", "Majewska", "Olszewski", "Żółkiewska", "Łukasik"]  # fmt: skip
FIRST = ["Anna", "Maria", "Katarzyna", "Piotr", "Krzysztof", "Andrzej", "Łucja", "Zofia"]


async def load(conn: asyncpg.Connection, cases: int, gmina: str, others: list[str],
               share: float) -> None:  # fmt: skip
    rng = random.Random(20261129)
    case_rows, member_rows = [], []
    for _ in range(cases):
        case_id = uuid4()
        where = gmina if rng.random() < share else rng.choice(others)
        opened = date(2024, 1, 1) + timedelta(days=rng.randint(0, 900))
        case_rows.append((case_id, where, "opened", ["1"], "self", False, opened, "bench"))
        for position in range(rng.randint(1, 4)):
            born = date(1950, 1, 1) + timedelta(days=rng.randint(0, 25000))
            name = (rng.choice(FIRST), rng.choice(SURNAMES))
            member_rows.append((uuid4(), case_id, position, *name, born, "F", "head", None,
                                born.year))  # fmt: skip
    await conn.copy_records_to_table("cases", records=case_rows, columns=(
        "case_id", "gmina", "status", "reasons", "notified_by", "consent_to_share", "opened_on",
        "opened_by"))  # fmt: skip
    await conn.copy_records_to_table("members", records=member_rows, columns=(
        "person_id", "case_id", "position", "first_name", "last_name", "birth_date", "sex",
        "relation", "pesel", "birth_year"))  # fmt: skip
    await conn.execute("ANALYZE cases; ANALYZE members")


async def timed(run, repeats: int) -> tuple[float, float]:
    took = []
    for _ in range(repeats):
        started = time.perf_counter()
        await run()
        took.append((time.perf_counter() - started) * 1000)
    took.sort()
    return statistics.median(took), took[int(len(took) * 0.95) - 1]


async def main(cases: int, share: float, repeats: int) -> None:
    settings = Settings(database_prefix=f"{NAMESPACE}_search")
    url = settings.database_url("intake")
    admin = await asyncpg.connect(f"{settings.postgres_url}/postgres")
    await admin.execute(f'DROP DATABASE IF EXISTS "{NAMESPACE}_search_intake" WITH (FORCE)')
    await admin.close()
    await ensure_database(url)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn, "intake", Path(store.__file__).parent / "migrations")
        gminas = [g.code for g in terc().in_region("06")]
        gmina = gminas[0]
        started = time.perf_counter()
        await load(conn, cases, gmina, gminas[1:], share)
        print(f"loaded {cases} cases in {time.perf_counter() - started:.1f}s")
        neighbours = finding.neighbours(gmina, gminas)
        queries = {
            "baseline: PESEL of an opening": lambda: store.open_cases_by_pesel(
                conn, gmina, ["79031412345"]),
            "surname 'zolkiewska'": lambda: casefile_store.search(
                conn, gmina, surname=finding.surname_range("Zolkiewska"), pesel=None,
                external_id=None, limit=51),
            "surname prefix 'ko' (common)": lambda: casefile_store.search(
                conn, gmina, surname=finding.surname_range("ko"), pesel=None,
                external_id=None, limit=51),
            "PESEL": lambda: casefile_store.search(
                conn, gmina, surname=None, pesel="79031412345", external_id=None, limit=51),
            "duplicates in the powiat (20 names)": lambda: casefile_store.open_cases_elsewhere(
                conn, neighbours, [], [("nowak", "anna", date(1960, 1, 1) + timedelta(days=d))
                                       for d in range(20)]),
            "worklist of the gmina": lambda: casefile_store.open_cases_due(conn, gmina, None),
        }  # fmt: skip
        for name, run in queries.items():
            median, p95 = await timed(run, repeats)
            print(f"{name:40s} median {median:7.2f} ms  p95 {p95:7.2f} ms")
    finally:
        await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--gmina-share", type=float, default=0.25)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.cases, args.gmina_share, args.repeats))
