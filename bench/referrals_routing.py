"""Referrals under load, on the real broker and database: routing throughput, the deadline
watch, and staff answers over HTTP. Runs the service as its own process on a vhost, database and
port of its own (namespace `KOOP_BENCH_NAMESPACE`, default kooperacja_bench), then removes them.

    python bench/referrals_routing.py --cases 2000 --institutions 20 --concurrency 20
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import date
from uuid import UUID, uuid4

import aio_pika
import asyncpg
import httpx

from kooperacja.plans import plan_agreed
from shared.auth import Role, issue_token
from shared.envelope import CONTENT_TYPE, wrap
from shared.events import PartnershipChanged, Place
from shared.settings import get_settings

# Run as a script on a developer machine: the built-in token secret.
os.environ.setdefault("KOOP_ENV", "development")
from shared.teryt import terc
from shared.topology import declare_exchange

NAMESPACE = os.environ.get("KOOP_BENCH_NAMESPACE", "kooperacja_bench")
PORT = int(os.environ.get("KOOP_BENCH_PORT", "8299"))
POWIAT = "0601"
SUPPORT = ["family_assistant", "psychologist", "tutoring", "meals"]


def rabbitmqctl(*args: str, check: bool = True) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=check, capture_output=True, timeout=60)


async def wait_for(check, what: str, within: float = 600) -> float:
    started = time.perf_counter()
    while not await check():
        if time.perf_counter() - started > within:
            raise TimeoutError(what)
        await asyncio.sleep(0.05)
    return time.perf_counter() - started


AMQP_URL = f"amqp://guest:guest@127.0.0.1:5672/{NAMESPACE}"
DB_NAME = f"{NAMESPACE}_referrals"


async def drop_database() -> None:
    admin = await asyncpg.connect(f"{get_settings().postgres_url}/postgres")
    await admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    await admin.close()


def run(cases: int, institutions: int, concurrency: int) -> None:
    asyncio.run(drop_database())
    rabbitmqctl("delete_vhost", NAMESPACE, check=False)
    rabbitmqctl("add_vhost", NAMESPACE)
    rabbitmqctl("set_permissions", "-p", NAMESPACE, "guest", ".*", ".*", ".*")
    env = {
        **os.environ,
        "KOOP_AMQP_URL": AMQP_URL,
        "KOOP_DATABASE_PREFIX": NAMESPACE,
        "KOOP_REFERRALS_PORT": str(PORT),
        "KOOP_REFERRALS_WATCH_SECONDS": "0.5",
        "KOOP_LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen([sys.executable, "-m", "services.referrals"], env=env)
    try:
        asyncio.run(measure(cases, institutions, concurrency))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        asyncio.run(drop_database())
        rabbitmqctl("delete_vhost", NAMESPACE, check=False)


async def measure(cases: int, institutions: int, concurrency: int) -> None:
    settings = get_settings()
    amqp_url, db_name = AMQP_URL, DB_NAME
    base = f"http://127.0.0.1:{PORT}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        while True:
            try:
                if (await http.get("/ready")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
        gminas = sorted(g.code for g in terc().in_region("06") if g.powiat == POWIAT)
        coordinator = {
            "Authorization": "Bearer "
            + issue_token(settings, subject="bench", role=Role.COORDINATOR, powiat=POWIAT)
        }
        members: dict[str, list[UUID]] = {}
        for i in range(institutions):
            response = await http.post(
                "/api/v1/institutions",
                headers=coordinator,
                json={
                    "name": f"Instytucja {i}",
                    "sector": "social_assistance",
                    "support_types": SUPPORT,
                    "gminas": [gminas[i % len(gminas)]],
                    "powiats": [POWIAT],
                    "capacity": 10_000,
                },
            )
            response.raise_for_status()
            if i % 2:  # every other one on its gmina's PZK, as the partnership service says
                members.setdefault(gminas[i % len(gminas)], []).append(
                    UUID(response.json()["institution_id"])
                )

        connection = await aio_pika.connect_robust(amqp_url)
        channel = await connection.channel(publisher_confirms=True)
        exchange = await declare_exchange(channel, settings.exchange)
        db = await asyncpg.connect(f"{settings.postgres_url}/{db_name}")
        for gmina, ids in sorted(members.items()):
            announced = PartnershipChanged(gmina=gmina, institutions=ids)
            await exchange.publish(
                aio_pika.Message(
                    wrap(announced, region="06", service="partnership").to_bytes(),
                    content_type=CONTENT_TYPE,
                ),
                routing_key=announced.routing_key,
            )
        bodies = []
        for n in range(cases):
            gmina = terc().gmina(gminas[n % len(gminas)])
            event = plan_agreed(
                uuid4(),
                Place(gmina=gmina.code, powiat=POWIAT, region="06", variant=gmina.variant),
                [SUPPORT[(n + k) % len(SUPPORT)] for k in range(2)],
                date(2026, 5, 1),
            )
            bodies.append(wrap(event, region="06", service="diagnosis").to_bytes())

        started = time.perf_counter()
        for chunk in range(0, len(bodies), 100):
            await asyncio.gather(
                *(
                    exchange.publish(
                        aio_pika.Message(
                            body=b,
                            content_type=CONTENT_TYPE,
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        ),
                        routing_key="plan.agreed.v1",
                    )
                    for b in bodies[chunk : chunk + 100]
                )
            )

        async def routed() -> bool:
            return await db.fetchval("SELECT count(*) FROM referrals") >= 2 * cases

        await wait_for(routed, "routing")
        routing_s = time.perf_counter() - started

        async def relayed() -> bool:
            return await db.fetchval("SELECT count(*) FROM outbox") == 0

        await wait_for(relayed, "the outbox to drain")
        print(
            f"routing: {cases} agreed plans x 2 supports over {institutions} "
            f"institutions in {routing_s:.2f}s = {cases / routing_s:.0f} plans/s, "
            f"{2 * cases / routing_s:.0f} referrals/s"
        )

        await db.execute("UPDATE referrals SET accept_by = now() - interval '1 hour'")
        started = time.perf_counter()

        async def reported() -> bool:
            left = await db.fetchval(
                "SELECT count(*) FROM referrals WHERE acceptance_overdue_at IS NULL"
            )
            return left == 0 and await db.fetchval("SELECT count(*) FROM outbox") == 0

        await wait_for(reported, "the overdue reports")
        watch_s = time.perf_counter() - started
        print(
            f"deadline watch: {2 * cases} overdue referrals reported and published in "
            f"{watch_s:.2f}s (includes up to 0.5s until its next round) = "
            f"{2 * cases / watch_s:.0f}/s"
        )

        rows = await db.fetch("SELECT referral_id, institution_id FROM referrals LIMIT 1000")
        tokens = {
            r["institution_id"]: issue_token(
                settings,
                subject="bench",
                role=Role.INSTITUTION_STAFF,
                institution=r["institution_id"],
            )
            for r in rows
        }
        gate = asyncio.Semaphore(concurrency)

        async def accept(row) -> int:
            async with gate:
                response = await http.post(
                    f"/api/v1/referrals/{row['referral_id']}/accept",
                    headers={"Authorization": f"Bearer {tokens[row['institution_id']]}"},
                )
                return response.status_code

        started = time.perf_counter()
        codes = await asyncio.gather(*(accept(r) for r in rows))
        accept_s = time.perf_counter() - started
        assert set(codes) == {200}, set(codes)
        print(
            f"accept over HTTP: {len(rows)} requests, {concurrency} concurrent, "
            f"{accept_s:.2f}s = {len(rows) / accept_s:.0f} req/s"
        )
        await db.close()
        await connection.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--institutions", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    run(args.cases, args.institutions, args.concurrency)
