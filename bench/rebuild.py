"""How fast reporting rebuilds its projections from the event log, beside a raw COPY.

    python -m bench.rebuild --events 100000

Makes a RabbitMQ vhost and a database of its own (removed afterwards), writes a realistic mix of
events into the event-log stream, runs the rebuild the service runs (`POST /admin/rebuild`),
reads the stream once more without applying anything, then COPYs the fact rows the events make
into empty tables of the same shape, and prints the rates.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import time
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import aio_pika
import asyncpg

from services.reporting import domain
from services.reporting.app import spec
from services.reporting.rebuild import EventLogReader, rebuild
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
                   reasons=rng.sample(["1", "4", "5", "9", "12"], 2), notified_by="school",
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


async def raw_copy(pool: asyncpg.Pool, envelopes: list[Envelope]) -> tuple[int, float]:
    """COPY the fact rows the events make into empty tables shaped like the projections."""
    facts = [f for e in envelopes for f in domain.facts_of(open_envelope(e), e)]
    by_table = domain.combine(facts)
    rows = 0
    async with pool.acquire() as conn, conn.transaction():
        for table in by_table:
            await conn.execute(f"CREATE TEMP TABLE copy_{table.name} (LIKE {table.name})")
        started = time.perf_counter()
        for table, records in by_table.items():
            await conn.copy_records_to_table(
                f"copy_{table.name}",
                records=[tuple(r.get(c) for c in table.columns) for r in records],
                columns=list(table.columns),
            )
            rows += len(records)
        seconds = time.perf_counter() - started
    return rows, seconds


async def read_only(amqp_url: str, batch: int) -> float:
    """The stream alone, read the way the rebuild reads it: the bound on the rebuild's speed."""
    started = time.perf_counter()
    async for _ in EventLogReader(amqp_url, prefetch=2 * batch).batches(batch):
        pass
    return time.perf_counter() - started


def rabbitmqctl(*args: str, check: bool = True) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=check, capture_output=True, timeout=60)


async def main(events: int, batch: int) -> None:
    vhost = f"koop_bench_{os.getpid()}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    settings = Settings(amqp_url=f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
                        database_prefix=vhost)  # fmt: skip
    url = settings.database_url("reporting")
    try:
        envelopes = make_envelopes(events)
        publish_seconds = await write_stream(settings.amqp_url, envelopes)
        await prepare_database(url, "reporting", spec.migrations)
        pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
        try:
            result = await rebuild(pool, settings.amqp_url, batch_size=batch)
            read_seconds = await read_only(settings.amqp_url, batch)
            copied, copy_seconds = await raw_copy(pool, envelopes)
        finally:
            await pool.close()
    finally:
        rabbitmqctl("delete_vhost", vhost, check=False)
        admin = await asyncpg.connect(f"{settings.postgres_url}/postgres")
        await admin.execute(f'DROP DATABASE IF EXISTS "{vhost}_reporting" WITH (FORCE)')
        await admin.close()
    rate = result.events_per_second
    print(f"events in the stream  {events:,} (written at {events / publish_seconds:,.0f}/s)")
    print(f"rebuild               {result.seconds:.2f} s, {rate:,.0f} events/s (batch {batch})")
    print(f"stream read alone     {read_seconds:.2f} s, {events / read_seconds:,.0f} events/s")
    print(f"raw COPY              {copy_seconds:.2f} s for the {copied:,} fact rows they make, "
          f"{copied / copy_seconds:,.0f} rows/s")  # fmt: skip
    print(f"rebuild / COPY time   {result.seconds / copy_seconds:.1f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.batch))
