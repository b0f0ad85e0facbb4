"""Routing's read of its candidates' load on a preloaded referrals database, both ways in one
sitting: the maintained counter (migration 0007, what routing reads now) and the count(*) of
open referrals per candidate it replaced, alternately, each the median of `--repeats`.

    python -m bench.open_load --database kbench_full_referrals

(the preloaded stack's referrals database that `python -m bench --preload …` leaves behind)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

import asyncpg

from shared.settings import Settings

_CANDIDATES = """SELECT i.institution_id, i.sector,
       coalesce((i.capacity_by_type ->> $1)::int, i.capacity) AS capacity,
       $2 = ANY(i.gminas) AS serves_gmina,
       EXISTS (SELECT 1 FROM partnerships p
               WHERE p.gmina = $2 AND p.institution_id = i.institution_id) AS in_partnership,
       {load} AS open_referrals,
       coalesce(i.ops_gmina = $2, false) AS is_gmina_ops
FROM institutions i
WHERE i.active AND $1 = ANY(i.support_types) AND ($2 = ANY(i.gminas) OR $3 = ANY(i.powiats))
ORDER BY i.institution_id"""

COUNTER = _CANDIDATES.format(
    load="""coalesce((SELECT l.open_referrals FROM institution_load l
                     WHERE l.institution_id = i.institution_id AND l.support_type = $1), 0)"""
)
RECOUNT = _CANDIDATES.format(
    load="""(SELECT count(*) FROM referrals r
            WHERE r.institution_id = i.institution_id AND r.support_type = $1
              AND r.state IN ('assigned', 'accepted'))"""
)


async def main(args: argparse.Namespace) -> dict[str, object]:
    conn = await asyncpg.connect(f"{Settings().postgres_url}/{args.database}")
    try:
        place = await conn.fetchrow(
            """SELECT support_type, gmina, powiat, count(*) AS n FROM referrals
               WHERE state IN ('assigned', 'accepted')
               GROUP BY 1, 2, 3 ORDER BY n DESC LIMIT 1"""
        )
        params = (place["support_type"], place["gmina"], place["powiat"])
        open_total = await conn.fetchval(
            "SELECT count(*) FROM referrals WHERE state IN ('assigned', 'accepted')"
        )
        timings: dict[str, list[float]] = {"counter": [], "count(*)": []}
        for query in (COUNTER, RECOUNT):  # warm both
            await conn.fetch(query, *params)
        for _ in range(args.repeats):
            for name, query in (("counter", COUNTER), ("count(*)", RECOUNT)):
                began = time.perf_counter()
                await conn.fetch(query, *params)
                timings[name].append((time.perf_counter() - began) * 1000)
        same = await conn.fetch(COUNTER, *params) == await conn.fetch(RECOUNT, *params)
    finally:
        await conn.close()
    result = {
        "open_referrals": open_total,
        "busiest_place": dict(place),
        "ms_median": {k: statistics.median(v) for k, v in timings.items()},
        "ms_max": {k: max(v) for k, v in timings.items()},
        "same_answer": same,
    }
    print(
        f"{open_total:,} open referrals; candidates of the busiest place "
        f"({place['n']:,} open of {place['support_type']} in {place['gmina'].strip()}): "
        f"counter {result['ms_median']['counter']:.2f} ms, "
        f"count(*) {result['ms_median']['count(*)']:.2f} ms (median of {args.repeats}); "
        f"same answer: {same}"
    )
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.open_load")
    parser.add_argument("--database", required=True)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--out")
    args = parser.parse_args()
    result = asyncio.run(main(args))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2, default=str)
