"""Fixtures on the real PostgreSQL and RabbitMQ (the test vhost made by tests/conftest.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import UUID

import aio_pika
import asyncpg
import pytest
from aio_pika.abc import AbstractRobustConnection

from shared.consumer import Handlers
from shared.db import create_pool, prepare_database
from shared.envelope import Envelope
from shared.events import CaseClosed, CaseOpened, CaseReopened
from shared.http import create_api
from shared.runtime import ServiceRuntime, ServiceSpec
from shared.settings import Settings, get_settings
from shared.topology import queue_name
from tests.support import eventually

PROBE_MIGRATIONS = Path(__file__).parent / "probe_migrations"


async def has_consumer(amqp: AbstractRobustConnection, queue: str) -> bool:
    channel = await amqp.channel()
    try:
        declared = await channel.declare_queue(queue, passive=True)
        return declared.declaration_result.consumer_count > 0
    except aio_pika.exceptions.ChannelClosed:
        return False  # not declared yet
    finally:
        if not channel.is_closed:
            await channel.close()


async def start_runtime(
    runtime: ServiceRuntime, amqp: AbstractRobustConnection, *, within: float = 60
) -> asyncio.Task[None]:
    """Run a service in this process; return once it consumes from its queue."""
    task = asyncio.create_task(runtime.run())

    async def consuming() -> bool:
        if task.done():
            task.result()  # it crashed: say why
        return await has_consumer(amqp, queue_name(runtime.name))

    await eventually(consuming, within=within, what=f"{runtime.name} to consume")
    return task


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
async def amqp(settings: Settings) -> AsyncIterator[AbstractRobustConnection]:
    connection = await aio_pika.connect_robust(settings.amqp_url)
    yield connection
    await connection.close()


@pytest.fixture(scope="session")
async def probe_pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    url = settings.database_url("probe")
    await prepare_database(url, "probe", PROBE_MIGRATIONS)
    pool = await create_pool(url)
    yield pool
    await pool.close()


# --- the probe: a minimal service on the real runtime, to test the backbone itself -----------

FAILS_LEFT: dict[UUID, int] = {}
probe_handlers = Handlers()


@probe_handlers.on(CaseOpened)
async def probe_case_opened(tx: asyncpg.Connection, event: CaseOpened, env: Envelope) -> None:
    await tx.execute(
        "INSERT INTO effects (event_id, case_id) VALUES ($1, $2)", env.id, event.case_id
    )
    if FAILS_LEFT.get(event.case_id, 0) > 0:
        FAILS_LEFT[event.case_id] -= 1
        raise RuntimeError(f"probe: passing failure for {event.case_id}")


@probe_handlers.on(CaseReopened)
async def probe_case_reopened(tx: asyncpg.Connection, event: CaseReopened, env: Envelope) -> None:
    """A read-modify-write that loses updates if two events of one case run at once."""
    n = await tx.fetchval("SELECT n FROM counters WHERE case_id = $1", event.case_id) or 0
    await asyncio.sleep(0.005)
    await tx.execute(
        """INSERT INTO counters (case_id, n) VALUES ($1, $2)
           ON CONFLICT (case_id) DO UPDATE SET n = EXCLUDED.n""",
        event.case_id,
        n + 1,
    )


# Cases whose closing has been "fixed" by an operator: until then, closing them fails.
FIXED: set[UUID] = set()


@probe_handlers.on(CaseClosed)
async def probe_case_closed(tx: asyncpg.Connection, event: CaseClosed, env: Envelope) -> None:
    if event.case_id not in FIXED:
        raise RuntimeError(f"probe: case {event.case_id} always fails")
    await tx.execute(
        "INSERT INTO effects (event_id, case_id) VALUES ($1, $2)", env.id, event.case_id
    )


@pytest.fixture(scope="session")
async def probe(
    settings: Settings, probe_pool: asyncpg.Pool, amqp: AbstractRobustConnection
) -> AsyncIterator[ServiceRuntime]:
    spec = ServiceSpec(
        name="probe",
        migrations=PROBE_MIGRATIONS,
        build_api=lambda: create_api("probe", description="test probe"),
        handlers=probe_handlers,
    )
    runtime = ServiceRuntime(spec, settings)
    task = await start_runtime(runtime, amqp)
    yield runtime
    runtime.stopping.set()
    await asyncio.wait_for(task, timeout=30)
