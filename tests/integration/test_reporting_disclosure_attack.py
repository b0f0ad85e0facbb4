"""The probe of issue 11, played in full: an analyst of the region asks every report over every
filter, grouping, monthly period and month-end as-of day, and solves everything seen as one
integer program (tests/disclosure_attack.py). No withheld figure and no count of fewer records
than the threshold may come out as a single value.

The data are made to be attacked: small gminas beside large ones in two powiats, three model
variants, three months of openings, closings, diagnoses, referrals and unmet needs. Which records
each figure counts comes from the service's own records queries (store.records) over the same
database, so the unknowns are classes of records no figure tells apart and every structural
identity holds by construction.

KOOP_ATTACK_OTHER_CODE=<a checkout> probes that checkout's reporting instead, started over the
same database once the data are in (e.g. the code before the cell-key method, to see the attack
succeed there).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import random
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from services.reporting import disclosure, store
from services.reporting.settings import cell_key_secret
from services.reporting.tables import INDICATOR_COUNTS, SUMMARY_COUNTS
from shared.auth import Role
from shared.envelope import Envelope
from shared.events import (
    CaseClosed,
    CaseOpened,
    DiagnosisCompleted,
    Event,
    InstitutionRegistered,
    Need,
    Recommendation,
    ReferralAccepted,
    ReferralDeclined,
    SupportAssigned,
    SupportCompleted,
    SupportUnassignable,
)
from tests.disclosure_attack import Attack
from tests.integration.conftest import eventually
from tests.integration.reporting_stack import PORT, ReportingStack, place, start_reporting_stack

pytestmark = [pytest.mark.integration, pytest.mark.slow]

THRESHOLD = 5
YEAR = 2025
MONTHS = (1, 2, 3)
MONTH_END = {1: date(YEAR, 1, 31), 2: date(YEAR, 2, 28), 3: date(YEAR, 3, 31)}
# gmina: cases opened in January, February, March. Two powiats of lubelskie, each with a large
# rural gmina, and small urban and urban-rural ones.
OPENINGS = {
    "0601032": (9, 8, 10),  # Biała Podlaska, rural
    "0601011": (1, 0, 2),  # Międzyrzec Podlaski, urban
    "0601113": (2, 1, 0),  # Piszczac, urban-rural
    "0602022": (7, 9, 6),  # Aleksandrów, rural
    "0602011": (3, 4, 2),  # Biłgoraj, urban
    "0602053": (0, 2, 1),  # Frampol, urban-rural
}
POWIATS = ("0601", "0602")
VARIANTS = ("rural", "urban_rural", "urban")
PLACE_TABLES = ("cases", "referrals", "supports", "unmet_needs", "households", "age_bands",
                "reasons", "needs", "cooperation", "indicators", "summary")  # fmt: skip
SECTOR_TABLES = ("acceptance_by_sector", "declines")


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[ReportingStack]:
    async for s in start_reporting_stack():
        yield s


def _uuid(rng: random.Random) -> UUID:
    """Ids from the seed, so the records' keys (and so every figure) are the same each run."""
    return UUID(int=rng.getrandbits(128), version=4)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, 0, tzinfo=UTC)


def the_region(rng: random.Random) -> list[tuple[date | None, Event]]:
    """Events of the attackable region, each with the day it happened (None: its own date)."""
    institutions = [(_uuid(rng), sector) for sector in
                    ("social_assistance", "social_assistance", "education", "health")]  # fmt: skip
    events: list[tuple[date | None, Event]] = [
        (date(YEAR, 1, 1), InstitutionRegistered(
            institution_id=i, name=f"Instytucja {n}", sector=sector,
            support_types=["family_assistant", "psychologist"], gminas=list(OPENINGS),
        ))
        for n, (i, sector) in enumerate(institutions)
    ]  # fmt: skip
    for gmina, per_month in OPENINGS.items():
        for month, count in zip(MONTHS, per_month, strict=True):
            for _ in range(count):
                events += _a_case(rng, gmina, month, institutions)
    return events


def _a_case(
    rng: random.Random, gmina: str, month: int, institutions: list[tuple[Any, str]]
) -> list[tuple[date | None, Event]]:
    size = rng.randint(1, 5)
    bands = {"30-44": min(size, 2)} | ({"6-17": size - 2} if size > 2 else {})
    case = CaseOpened(
        case_id=_uuid(rng), place=place(gmina), opened_on=date(YEAR, month, rng.randint(1, 12)),
        household_size=size, age_bands=bands,
        reasons=rng.sample(["1", "4", "9"], rng.randint(1, 2)), notified_by="school",
        consent_to_share=True,
    )  # fmt: skip
    out: list[tuple[date | None, Event]] = [(None, case)]
    if rng.random() < 0.4:
        on = date(YEAR, min(month + rng.randint(0, 1), 3), 25)
        outcome = "completed_successfully" if rng.random() < 0.7 else "completed_partly"
        out.append((None, CaseClosed(case_id=case.case_id, place=case.place, closed_on=on,
                                     outcome=outcome)))  # fmt: skip
    if rng.random() < 0.4:
        return out
    institution, sector = rng.choice(institutions)
    diagnosed_on = date(YEAR, month, 20)
    recommendation = _uuid(rng)
    out.append((None, DiagnosisCompleted(
        diagnosis_id=_uuid(rng), case_id=case.case_id, place=case.place, completed_on=diagnosed_on,
        needs=[Need(area=a, severity=2) for a in rng.sample(["parenting", "finances"],
                                                             rng.randint(1, 2))],
        recommendations=[Recommendation(recommendation_id=recommendation,
                                        support_type="family_assistant", need_area="parenting",
                                        priority=1)],
        institutions=[institution],
    )))  # fmt: skip
    if rng.random() < 0.2:
        out.append((date(YEAR, month, 22), SupportUnassignable(
            recommendation_id=_uuid(rng), case_id=case.case_id, place=case.place,
            support_type="psychologist", attempts=1,
        )))  # fmt: skip
    referral = _uuid(rng)
    common = {"referral_id": referral, "case_id": case.case_id, "place": case.place,
              "support_type": "family_assistant", "institution_id": institution,
              "sector": sector}  # fmt: skip
    out.append((date(YEAR, month, 21), SupportAssigned(
        **common, recommendation_id=recommendation, attempt=1,
        accept_by=datetime(YEAR, 12, 31, tzinfo=UTC),
    )))  # fmt: skip
    answer = rng.random()
    if answer < 0.2:
        out.append((date(YEAR, month, 26),
                    ReferralDeclined(**common, reason="no_capacity", attempt=1)))  # fmt: skip
    elif answer < 0.7:
        accepted_on = date(YEAR, min(month + 1, 3), 5)
        out.append((accepted_on, ReferralAccepted(
            **common, complete_by=datetime(YEAR, 12, 31, tzinfo=UTC))))  # fmt: skip
        if rng.random() < 0.4:
            out.append((date(YEAR, 3, 28), SupportCompleted(**common, outcome="achieved")))
    return out


@dataclass(frozen=True)
class Query:
    table: str
    filters: tuple[tuple[str, str], ...]
    by: str | None
    period: tuple[int, int] | None
    as_of: int | None

    def params(self) -> dict[str, str]:
        out = dict(self.filters)
        if self.by:
            out["by"] = self.by
        if self.period:
            out["from"] = date(YEAR, self.period[0], 1).isoformat()
            out["to"] = MONTH_END[self.period[1]].isoformat()
        if self.as_of:
            out["as_of"] = MONTH_END[self.as_of].isoformat()
        return out

    def where(self) -> store.Filter:
        f = dict(self.filters)
        return store.Filter(
            region=["06"], powiat=f.get("powiat"), gmina=f.get("gmina"),
            variant=f.get("variant"),
            as_of=MONTH_END[self.as_of] if self.as_of else date(9999, 12, 31),
            opened_from=date(YEAR, self.period[0], 1) if self.period else None,
            opened_to=MONTH_END[self.period[1]] if self.period else None,
            key_pads=disclosure.hmac_pads(cell_key_secret()),
        )  # fmt: skip


def the_analysts_queries() -> list[Query]:
    """Every filter, grouping, table, monthly period across the data's span and as-of day at
    each month's end (before a period starts nothing is counted, so those are left out)."""
    times: list[tuple[tuple[int, int] | None, int | None]] = [(None, None)]
    times += [((first, last), as_of) for first in MONTHS for last in MONTHS if last >= first
              for as_of in MONTHS if as_of >= first]  # fmt: skip
    filters: list[tuple[tuple[tuple[str, str], ...], tuple[str, ...], tuple[str, ...]]] = [
        ((), ("powiat", "gmina", "variant"), (*PLACE_TABLES, *SECTOR_TABLES)),
        *(((("powiat", p),), ("gmina", "variant"), (*PLACE_TABLES, *SECTOR_TABLES))
           for p in POWIATS),
        *(((("variant", v),), ("powiat", "gmina"), (*PLACE_TABLES, *SECTOR_TABLES))
           for v in VARIANTS),
        # a gmina's own rows are the by=gmina rows above; its sector tables are not
        *(((("gmina", g),), (), (*SECTOR_TABLES, "summary")) for g in OPENINGS),
    ]  # fmt: skip
    queries = []
    for period, as_of in times:
        for scope, groupings, tables in filters:
            for table in tables:
                for by in groupings if table in PLACE_TABLES else (None,):
                    queries.append(Query(table, scope, by, period, as_of))
    return queries


async def test_no_withheld_or_small_count_is_recovered_from_everything_an_analyst_can_ask(
    stack: ReportingStack,
) -> None:
    events = the_region(random.Random(11))
    sent: list[Envelope] = []
    for day, event in events:
        sent += await stack.publish(event, time=at(day) if day else None)
    await stack.settle(sent)

    async with _probed(stack) as target:
        await _attack(stack, target)


@contextlib.asynccontextmanager
async def _probed(stack: ReportingStack) -> AsyncIterator[str]:
    """The reporting to probe: this one, or another checkout's over the same database."""
    other = os.environ.get("KOOP_ATTACK_OTHER_CODE")
    if not other:
        yield f"http://127.0.0.1:{PORT}"
        return
    port = PORT + 20
    env = {**os.environ, "PYTHONPATH": other, "KOOP_REPORTING_PORT": str(port),
           "KOOP_AMQP_URL": stack.settings.amqp_url,
           "KOOP_REPORTING_DATABASE_URL": stack.settings.database_url("reporting")}  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.reporting", cwd=other, env=env)  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    async def ready() -> bool:
        try:
            return (await stack.http.get(f"{url}/ready")).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        await eventually(ready, within=60, what="the other reporting to be ready")
        yield url
    finally:
        process.terminate()
        await process.wait()


async def _attack(stack: ReportingStack, target: str) -> None:
    analyst = stack.who(Role.ANALYST, region="06")
    queries = the_analysts_queries()
    assert len(queries) > 2000
    limit = asyncio.Semaphore(3)

    async def ask(q: Query) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        async with limit:
            path = "/reports/" + q.table
            answer = await stack.http.get(f"{target}/api/v1{path}", headers=analyst,
                                          params=q.params())  # fmt: skip
            assert answer.status_code == 200, (q, answer.text)
            async with stack.pool.acquire() as conn:
                counted = await store.records(conn, q.table, q.where(), q.by or "gmina")
            return answer.json(), counted

    started = time.monotonic()
    answers = await asyncio.gather(*(ask(q) for q in queries))
    print(f"asked in {time.monotonic() - started:.1f} s")

    # every figure seen: one unknown per set of records counted (the same set however it was
    # reached), and the identities each answer shows (a line's cells sum to its total)
    note = answers[0][0]["suppression"]
    cell_key = note.get("method") == "cell-key"
    attack = Attack(THRESHOLD, note.get("max_noise", 0), cell_key=cell_key,
                    withheld_max=note.get("withheld_up_to"))  # fmt: skip
    looks: dict[frozenset[str], list[tuple[str, int | None]]] = defaultdict(list)
    for q, (body, counted) in zip(queries, answers, strict=True):
        figures, lines = _figures(q, body, counted)
        for where, units, shown in figures:
            looks[units].append((where, shown))
        for whole, parts in lines:
            if (
                len(set().union(*parts)) == sum(len(p) for p in parts)
                and set().union(*parts) == whole
            ):
                attack.same([attack.unknown(p) for p in parts], attack.unknown(whole))
    if not cell_key:  # another checkout: leave out the figures it counts otherwise
        for units in list(looks):
            looks[units] = [(w, v) for w, v in looks[units] if v in (None, 0, len(units))]
            if not looks[units]:
                del looks[units]
    for units, seen in looks.items():
        if cell_key:  # the same records, however reached, give the same figure
            assert len({shown for _, shown in seen}) == 1, seen[:5]
        for where, shown in seen:
            attack.saw([attack.unknown(units)], shown, where)
    truth = {index: len(units) for index, units in attack.unknowns().items()}
    assert attack.fits(truth) == []  # every figure within the published bound of its truth
    assert all(sum(truth[p] for p in parts) == truth[whole]
               for parts, whole in attack.identities)  # fmt: skip

    withheld = [(seen[0][0] + f" (true {len(units)})", frozenset([attack.unknown(units)]))
                for units, seen in looks.items() if 0 < len(units) < THRESHOLD]  # fmt: skip
    # a figure withheld though not small is no target, but it must not be pinned either
    withheld += [(seen[0][0] + f" (true {len(units)}, withheld)",
                  frozenset([attack.unknown(units)]))
                 for units, seen in looks.items()
                 if len(units) >= THRESHOLD and seen[0][1] is None]  # fmt: skip
    assert len(withheld) > 50, "the data must give the attacker something to find"
    print(
        f"{len(queries)} queries, {sum(len(v) for v in looks.values())} figures, "
        f"{len(looks)} sets of records, {len(attack.identities)} identities, "
        f"{len(withheld)} below the threshold"
    )
    if os.environ.get("KOOP_ATTACK_DUMP"):  # for trying other perturbation tables offline
        dump = (list(looks), [(parts, whole) for parts, whole in attack.identities],
                {u: k for u, k in attack._classes.items()})  # fmt: skip
        await asyncio.to_thread(Path(os.environ["KOOP_ATTACK_DUMP"]).write_bytes,
                                pickle.dumps(dump))  # fmt: skip
    recovered = attack.pinned(withheld, truth)
    assert recovered == [], f"{len(recovered)} recovered, e.g. {recovered[:10]}"


Lines = list[tuple[frozenset[str], list[frozenset[str]]]]


def _figures(
    q: Query, body: dict[str, Any], counted: list[dict[str, Any]]
) -> tuple[list[tuple[str, frozenset[str], int | None]], Lines]:
    """(how it was reached, the records it counts, the figure shown) of every count of an
    answer: cells, row totals, column totals and the grand total; and its lines (a total with
    the cells along it), which the caller keeps as identities where the cells partition it."""
    cells: dict[tuple[str | None, str | None], set[str]] = defaultdict(set)
    for r in counted:
        row, col, unit = str(r["row"]), str(r["col"]), r["unit"]
        for key in ((row, col), (row, None), (None, col), (None, None)):
            cells[key].add(unit)
    name = f"{q.table} {q.params()}"
    out = []

    def units(row: str | None, col: str | None) -> frozenset[str]:
        return frozenset(cells.get((row, col), set()))

    def add(row: str | None, col: str | None, shown: int | None) -> None:
        out.append((f"{name} [{row or 'total'}, {col or 'total'}]", units(row, col), shown))

    if q.table in ("summary", "indicators"):
        rows = body["rows"]
        keys = [line["key"] for line in rows]
        counts = [c for c in (*INDICATOR_COUNTS, *SUMMARY_COUNTS) if c in body["total"]]
        for key, line in zip(keys, rows, strict=True):
            for count in counts:
                add(key, count, line[count])
        for count in counts:
            add(None, count, body["total"][count])
        lines = [(units(None, c), [units(k, c) for k in keys]) for c in counts]
    else:
        keys = [line["key"] for line in body["rows"]]
        columns = list(body["total"]["cells"])
        for line in body["rows"]:
            for col, shown in line["cells"].items():
                add(line["key"], col, shown)
            add(line["key"], None, line["total"])
        for col, shown in body["total"]["cells"].items():
            add(None, col, shown)
        add(None, None, body["total"]["total"])
        lines = [(units(k, None), [units(k, c) for c in columns]) for k in keys]
        lines += [(units(None, c), [units(k, c) for k in keys]) for c in columns]
        lines.append((units(None, None), [units(None, c) for c in columns]))
        lines.append((units(None, None), [units(k, None) for k in keys]))
    return out, lines
