"""How fast reporting rebuilds its projections from the event log, beside a raw COPY.

    python -m bench.rebuild --events 100000 [--out bench/results/rebuild.json]

Makes a RabbitMQ vhost and a database of its own (removed afterwards), writes a realistic mix of
events into the event-log stream, runs the rebuild the service runs (`POST /admin/rebuild`),
reads the stream once more over each transport without applying anything, then COPYs the fact
rows the events make into empty tables of the same shape (columns, keys, indexes; logged like
the projections), and prints the rates and the rebuild's speed as a share of the COPY's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import aio_pika
import asyncpg

from services.reporting import domain
from services.reporting.app import spec
from services.reporting.event_log import AmqpReader, StreamReader, stream_url_of
from services.reporting.rebuild import rebuild
from shared.db import prepare_database
from shared.envelope import CONTENT_TYPE, Envelope, open_envelope, wrap
from shared.events import (
    CaseClosed,
    CaseOpened,
    DiagnosisCompleted,
    Event,
    Need,
    Place,
    Recommendation,
    ReferralAccepted,
    SupportAssigned,
    SupportCompleted,
)
from shared.settings import Settings
from shared.teryt import terc
from shared.topology import EVENT_LOG_STREAM, declare_event_log


def story(rng: random.Random, place: Place, start: date) -> list[Event]:
    """One family's events: opened, diagnosed, two referrals through to completion, closed."""
    case_id = uuid4()
    events: list[Event] = [
        CaseOpened(case_id=case_id, place=place, opened_on=start,
                   household_size=rng.randint(1, 7), age_bands={"30-44": 1, "6-17": 1},
                   reasons=rng.sample(["1", "4", "5", "9", "13"], 2), notified_by="school",
                   consent_to_share=True),
        DiagnosisCompleted(diagnosis_id=uuid4(), case_id=case_id, place=place,
                           completed_on=start + timedelta(days=rng.randint(5, 40)),
                           needs=[Need(area="parenting", severity=2)],
                           recommendations=[Recommendation(recommendation_id=uuid4(),
                                                           support_type="family_assistant",
                                                           need_area="parenting", priority=1)],
                           institutions=[uuid4()]),
    ]  # fmt: skip
    for _ in range(2):
        common = {"referral_id": uuid4(), "case_id": case_id, "place": place,
                  "support_type": "family_assistant", "institution_id": uuid4(),
                  "sector": "social_assistance"}  # fmt: skip
        due = datetime(2030, 1, 1, tzinfo=UTC)
        events += [
            SupportAssigned(**common, recommendation_id=uuid4(), attempt=1, accept_by=due),
            ReferralAccepted(**common, complete_by=due),
            SupportCompleted(**common, outcome="achieved"),
        ]
    outcome = rng.choice(["completed_successfully", "completed_partly"])
    closed_on = start + timedelta(days=rng.randint(300, 400))
    events.append(CaseClosed(case_id=case_id, place=place, closed_on=closed_on, outcome=outcome))
    return events


def make_envelopes(count: int) -> list[Envelope]:
    rng = random.Random(2026)
    gminas = [g for g in terc().in_region("06")][:60]
    envelopes: list[Envelope] = []
    while len(envelopes) < count:
        g = rng.choice(gminas)
        place = g.place
        start = date(2024, 1, 1) + timedelta(days=rng.randint(0, 500))
        for event in story(rng, place, start):
            envelopes.append(wrap(event, region="06", service="bench"))
    return envelopes[:count]


async def write_stream(amqp_url: str, envelopes: list[Envelope]) -> float:
    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel(publisher_confirms=True)
    await declare_event_log(channel, "kooperacja.events")
    started = time.perf_counter()
    for start in range(0, len(envelopes), 200):
        await asyncio.gather(
            *(
                channel.default_exchange.publish(
                    aio_pika.Message(body=e.to_bytes(), content_type=CONTENT_TYPE,
                                     delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                    routing_key=EVENT_LOG_STREAM,
                )
                for e in envelopes[start : start + 200]
            )
        )  # fmt: skip
    seconds = time.perf_counter() - started
    await connection.close()
    return seconds


async def raw_copy(
    pool: asyncpg.Pool, envelopes: list[Envelope], *, bare: bool = False
) -> tuple[int, float]:
    """COPY the fact rows the events make (folded, as the rebuild writes them) into empty
    tables shaped like the projections: same columns, keys and indexes, WAL-logged; `bare`:
    into temporary tables without keys or indexes instead, the cheapest COPY there is."""
    facts = [f for e in envelopes for f in domain.facts_of(open_envelope(e), e)]
    by_table = domain.combine(facts)
    del facts
    rows = 0
    async with pool.acquire() as conn, conn.transaction():
        for table in by_table:
            if bare:
                await conn.execute(f"CREATE TEMP TABLE copy_{table.name} (LIKE {table.name})")
            else:
                await conn.execute(
                    f"CREATE TABLE copy_{table.name} (LIKE {table.name} INCLUDING ALL)"
                )
        records = {
            table: [tuple(r.get(c) for c in table.columns) for r in found]
            for table, found in by_table.items()
        }
        started = time.perf_counter()
        for table, found in records.items():
            await conn.copy_records_to_table(
                f"copy_{table.name}", records=found, columns=list(table.columns)
            )
            rows += len(found)
        seconds = time.perf_counter() - started
        for table in by_table:
            await conn.execute(f"DROP TABLE copy_{table.name}")
    return rows, seconds


async def read_only(amqp_url: str, transport: str, batch: int) -> float:
    """The stream alone, read the way the rebuild reads it: the bound on the rebuild's speed."""
    reader = (
        StreamReader(stream_url_of(amqp_url), amqp_url)
        if transport == "stream"
        else AmqpReader(amqp_url, prefetch=2 * batch)
    )
    started = time.perf_counter()
    async for _ in reader.batches(batch):
        pass
    return time.perf_counter() - started


def rabbitmqctl(*args: str, check: bool = True) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=check, capture_output=True, timeout=60)


async def main(events: int, batch: int) -> dict[str, object]:
    vhost = f"koop_bench_{os.getpid()}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    settings = Settings(amqp_url=f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
                        database_prefix=vhost)  # fmt: skip
    url = settings.database_url("reporting")
    stream_url = stream_url_of(settings.amqp_url)
    try:
        envelopes = make_envelopes(events)
        publish_seconds = await write_stream(settings.amqp_url, envelopes)
        await prepare_database(url, "reporting", spec.migrations)
        pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
        try:
            result = await rebuild(pool, settings.amqp_url, stream_url=stream_url,
                                   batch_size=batch)  # fmt: skip
            read = {t: await read_only(settings.amqp_url, t, batch) for t in ("stream", "amqp")}
            copied, copy_seconds = await raw_copy(pool, envelopes)
            _, bare_seconds = await raw_copy(pool, envelopes, bare=True)
        finally:
            await pool.close()
    finally:
        rabbitmqctl("delete_vhost", vhost, check=False)
        admin = await asyncpg.connect(f"{settings.postgres_url}/postgres")
        await admin.execute(f'DROP DATABASE IF EXISTS "{vhost}_reporting" WITH (FORCE)')
        await admin.close()
    rate = result.events_per_second
    share = copy_seconds / result.seconds  # the same rows: speed ratio = inverse time ratio
    print(f"events in the stream  {events:,} (written at {events / publish_seconds:,.0f}/s)")
    print(f"rebuild               {result.seconds:.2f} s, {rate:,.0f} events/s (batch {batch})")
    for transport, seconds in read.items():
        print(f"read alone, {transport:<9} {seconds:.2f} s, {events / seconds:,.0f} events/s")
    print(f"raw COPY              {copy_seconds:.2f} s for the {copied:,} fact rows they make, "
          f"{copied / copy_seconds:,.0f} rows/s (bare temp tables: {bare_seconds:.2f} s, "
          f"{copied / bare_seconds:,.0f} rows/s)")  # fmt: skip
    print(f"rebuild / COPY speed  {100 * share:.1f} % "
          f"({100 * bare_seconds / result.seconds:.1f} % of the bare COPY)")  # fmt: skip
    figures = {
        "events": events,
        "batch": batch,
        "rebuild_seconds": round(result.seconds, 3),
        "rebuild_events_per_second": round(rate),
        "skipped": result.skipped,
        "read_alone_events_per_second": {t: round(events / s) for t, s in read.items()},
        "fact_rows": copied,
        "copy_seconds": round(copy_seconds, 3),
        "copy_rows_per_second": round(copied / copy_seconds),
        "bare_copy_rows_per_second": round(copied / bare_seconds),
        "rebuild_share_of_copy_speed_percent": round(100 * share, 1),
        "rebuild_share_of_bare_copy_speed_percent": round(100 * bare_seconds / result.seconds, 1),
    }
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--out", default="bench/results/rebuild.json")
    args = parser.parse_args()
    figures = asyncio.run(main(args.events, args.batch))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(figures, indent=2) + "\n")
