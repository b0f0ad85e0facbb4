"""Stopping a service finishes the message in hand and returns the rest to the queue."""

from __future__ import annotations

import asyncio
from uuid import UUID

import asyncpg
import pytest
from aio_pika.abc import AbstractRobustConnection

from shared.consumer import Handlers
from shared.envelope import Envelope, wrap
from shared.events import CaseOpened
from shared.http import create_api
from shared.runtime import ServiceRuntime, ServiceSpec
from shared.settings import Settings
from shared.topology import queue_name
from tests.conftest import PORT_BASE
from tests.integration.conftest import PROBE_MIGRATIONS, start_runtime
from tests.integration.test_consumer import opened, publish

pytestmark = pytest.mark.integration

in_handler = asyncio.Event()
drain_handlers = Handlers()


@drain_handlers.on(CaseOpened)
async def slow_case_opened(tx: asyncpg.Connection, event: CaseOpened, env: Envelope) -> None:
    await tx.execute(
        "INSERT INTO effects (event_id, case_id) VALUES ($1, $2)", env.id, event.case_id
    )
    in_handler.set()
    await asyncio.sleep(0.5)  # a slow handler, so that the stop comes while it works


async def test_stop_finishes_the_message_in_hand_and_loses_none(
    settings: Settings, amqp: AbstractRobustConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A port of its own: the one after the probe's is the web front's (tests/conftest.py).
    monkeypatch.setenv("KOOP_DRAIN_PORT", str(PORT_BASE + 26))
    spec = ServiceSpec(
        name="drain",
        migrations=PROBE_MIGRATIONS,
        build_api=lambda: create_api("drain", description="test"),
        handlers=drain_handlers,
    )
    runtime = ServiceRuntime(spec, settings)
    task = await start_runtime(runtime, amqp)

    sent: list[UUID] = []
    for _ in range(5):
        event = opened()
        sent.append(event.case_id)
        await publish(
            amqp, settings, wrap(event, region="06", service="intake").to_bytes(), "case.opened.v1"
        )
    await asyncio.wait_for(in_handler.wait(), timeout=20)
    runtime.stopping.set()
    await asyncio.wait_for(task, timeout=30)

    pool = await asyncpg.create_pool(settings.database_url("drain"), min_size=1, max_size=2)
    try:
        done = {r["case_id"] for r in await pool.fetch("SELECT case_id FROM effects")}
    finally:
        await pool.close()
    left = await _ready_messages(amqp)
    assert done, "the message in hand was not finished"
    assert done <= set(sent)
    assert len(done) + left == len(sent), "a message was lost or handled twice"


async def _ready_messages(amqp: AbstractRobustConnection) -> int:
    channel = await amqp.channel()
    queue = await channel.declare_queue(queue_name("drain"), passive=True)
    count = queue.declaration_result.message_count
    await channel.close()
    return count
