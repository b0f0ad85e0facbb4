"""How fast the notifications service catches up from the event log on its first start.

    python -m bench.notifications_catch_up --events 20000

Makes a RabbitMQ vhost and a database of its own (removed afterwards), publishes the events
into the exchange before the service ever ran (so they are in the event-log stream only: half of
a type notifications handles, support.overdue.v1, half it does not, plan.goal_reviewed.v1),
starts the service in this process and times its catch-up to the end marker; prints events of
the log read per second and notifications made per second.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import time
from datetime import date
from uuid import uuid4

import aio_pika
import asyncpg

from services.notifications.app import spec
from shared.codes import GoalResult, NeedArea, SupportType
from shared.envelope import CONTENT_TYPE, wrap
from shared.events import Event, PlanGoalReviewed, SupportOverdue
from shared.runtime import ServiceRuntime
from shared.settings import Settings
from shared.teryt import terc
from shared.topology import declare_event_log, declare_exchange

VHOST = "kooperacja_bench_catch_up"
PORT = int(os.environ.get("KOOP_BENCH_PORT", "8648"))


class _Settings(Settings):
    def http_port(self, service: str) -> int:
        return PORT


def _events(n: int) -> list[Event]:
    place = terc().gmina("0601042").place
    out: list[Event] = []
    for i in range(n):
        if i % 2 == 0:
            out.append(
                SupportOverdue(
                    referral_id=uuid4(),
                    case_id=uuid4(),
                    place=place,
                    support_type=SupportType.PSYCHOLOGIST,
                    institution_id=uuid4(),
                    stage="acceptance",
                )
            )
        else:
            out.append(
                PlanGoalReviewed(
                    plan_id=uuid4(),
                    case_id=uuid4(),
                    place=place,
                    goal_id=uuid4(),
                    area=NeedArea.PARENTING,
                    reviewed_on=date(2026, 11, 1),
                    result=GoalResult.MET,
                )
            )
    return out


def _fresh_vhost() -> None:
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", VHOST], capture_output=True)
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", VHOST], check=True, capture_output=True)
    subprocess.run(
        ["rabbitmqctl", "-q", "set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*"],
        check=True,
        capture_output=True,
    )


async def run(n: int) -> None:
    settings = _Settings(
        amqp_url=f"amqp://guest:guest@127.0.0.1:5672/{VHOST}",
        database_prefix=f"bench_catch_up_{uuid4().hex[:6]}",
    )
    amqp = await aio_pika.connect_robust(settings.amqp_url)
    try:
        channel = await amqp.channel(publisher_confirms=True)
        exchange = await declare_exchange(channel, settings.exchange)
        await declare_event_log(channel, settings.exchange)
        for event in _events(n):
            envelope = wrap(event, region="06", service="bench")
            await exchange.publish(
                aio_pika.Message(
                    body=envelope.to_bytes(),
                    content_type=CONTENT_TYPE,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=envelope.routing_key,
            )
        runtime = ServiceRuntime(spec, settings)
        started = time.perf_counter()
        task = asyncio.create_task(runtime.run())
        url = settings.database_url("notifications")
        pool: asyncpg.Pool | None = None
        while True:
            await asyncio.sleep(0.2)
            if task.done():
                task.result()
            try:
                pool = pool or await asyncpg.create_pool(url, min_size=1, max_size=2)
                pending = await pool.fetchval(
                    "SELECT count(*) FROM event_log_catch_up WHERE finished_at IS NULL"
                )
                made = await pool.fetchval("SELECT count(*) FROM notifications")
            except (OSError, asyncpg.PostgresError):
                continue
            if pending == 0 and made == n // 2 + n % 2:
                break
        seconds = time.perf_counter() - started
        print(
            f"catch-up of {n} events ({made} notifications) from the first start: {seconds:.1f} s "
            f"= {n / seconds:.0f} events/s read, {made / seconds:.0f} notifications/s "
            "(start-up and migrations included)"
        )
        runtime.stopping.set()
        await asyncio.wait_for(task, timeout=60)
        assert pool is not None
        await pool.close()
        admin = await asyncpg.connect(f"{settings.postgres_url}/postgres")
        await admin.execute(
            f'DROP DATABASE "{settings.database_prefix}_notifications" WITH (FORCE)'
        )
        await admin.close()
    finally:
        await amqp.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20000)
    _fresh_vhost()
    try:
        asyncio.run(run(parser.parse_args().events))
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", VHOST], capture_output=True)


if __name__ == "__main__":
    main()
