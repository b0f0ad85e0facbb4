"""How fast a region's events cross the shovel link to the macro-region, on the local broker.

    .venv/bin/python bench/federation_link.py --messages 20000

Makes two vhosts of its own (<prefix>_bench_region, <prefix>_bench_macro), links them with
deploy/regions/link.py, publishes `case.opened.v1` envelopes (persistent, with confirms, 100 in
flight) into the region's exchange and counts them arriving in a queue on the macro-region's
exchange. Prints the publish rate and the end-to-end rate through the link; with --backlog the
link is down while publishing and the rate printed is how fast the held events drain once it is
applied again. Deletes the vhosts at the end.
Needs the rabbitmq_shovel plugin (rabbitmq-plugins enable rabbitmq_shovel) and rabbitmqctl.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from urllib.parse import quote
from uuid import uuid4

import aio_pika

from shared.codes import AgeBand, ModelVariant, NotifiedBy, Reason
from shared.envelope import CONTENT_TYPE, wrap
from shared.events import CaseOpened, Place
from shared.topology import declare_exchange

ROOT = Path(__file__).resolve().parents[1]
IN_FLIGHT = 100


def uri(vhost: str) -> str:
    return f"amqp://guest:guest@127.0.0.1:5672/{quote(vhost, safe='')}"


def rabbitmqctl(*args: str, check: bool = True) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=check, capture_output=True, timeout=120)


def envelope_body() -> bytes:
    event = CaseOpened(
        case_id=uuid4(),
        place=Place(gmina="0602022", powiat="0602", region="06", variant=ModelVariant.RURAL),
        opened_on=date(2026, 1, 5),
        household_size=3,
        age_bands={AgeBand.ADULT_30_44: 2, AgeBand.CHILD_6_17: 1},
        reasons=[Reason("2"), Reason("5")],
        notified_by=NotifiedBy.SELF,
        consent_to_share=True,
    )
    return wrap(event, region="06", service="intake").to_bytes()


def link(region: str, macro: str, action: str) -> None:
    script = ROOT / "deploy" / "regions" / "link.py"
    region_arg = f"06={uri(region)}"
    subprocess.run(
        [sys.executable, str(script), "--macro", uri(macro), "--region", region_arg, action],
        check=True,
    )


async def run(messages: int, region: str, macro: str, backlog: bool) -> None:
    region_conn = await aio_pika.connect(uri(region))
    macro_conn = await aio_pika.connect(uri(macro))
    try:
        macro_channel = await macro_conn.channel()
        sink = await macro_channel.declare_queue("bench.sink", durable=True)
        await sink.bind(await declare_exchange(macro_channel, "kooperacja.events"), "#")
        arrived = 0
        done = asyncio.Event()

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal arrived
            await message.ack()
            arrived += 1
            if arrived == messages:
                done.set()

        await macro_channel.set_qos(prefetch_count=500)
        await sink.consume(on_message)

        channel = await region_conn.channel(publisher_confirms=True)
        exchange = await declare_exchange(channel, "kooperacja.events")
        bodies = [envelope_body() for _ in range(messages)]
        gate = asyncio.Semaphore(IN_FLIGHT)

        async def publish(body: bytes) -> None:
            async with gate:
                await exchange.publish(
                    aio_pika.Message(
                        body,
                        content_type=CONTENT_TYPE,
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    ),
                    routing_key="case.opened.v1",
                )

        if backlog:
            link(region, macro, "--unlink")
        started = time.perf_counter()
        await asyncio.gather(*(publish(b) for b in bodies))
        published = time.perf_counter() - started
        if backlog:
            link(region, macro, "--apply")
            started = time.perf_counter()
        await asyncio.wait_for(done.wait(), timeout=600)
        crossed = time.perf_counter() - started
        print(f"{messages} events of {len(bodies[0])} bytes")
        print(f"published into the region: {messages / published:,.0f} msg/s")
        what = "held events drained to the macro-region" if backlog else "arrived end to end"
        print(f"{what}: {messages / crossed:,.0f} msg/s")
    finally:
        await region_conn.close()
        await macro_conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--prefix", default="kooperacja")
    parser.add_argument("--backlog", action="store_true", help="publish while unlinked")
    args = parser.parse_args()
    region, macro = f"{args.prefix}_bench_region", f"{args.prefix}_bench_macro"
    for vhost in (region, macro):
        rabbitmqctl("delete_vhost", vhost, check=False)
        rabbitmqctl("add_vhost", vhost)
        rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    try:
        link(region, macro, "--apply")
        asyncio.run(run(args.messages, region, macro, args.backlog))
    finally:
        for vhost in (region, macro):
            rabbitmqctl("delete_vhost", vhost, check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
