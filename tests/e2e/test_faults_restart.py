"""Restart RabbitMQ, then PostgreSQL, while cases stream in: services reconnect by themselves,
the outbox keeps what could not be published, and every case is counted once."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest

from shared.auth import Role
from shared.topology import dead_letter_queue_name
from tests.e2e.conftest import Api, Stack
from tests.support import a_household, a_person

pytestmark = pytest.mark.e2e
GMINA = "0601072"  # Konstantynów: this test's own
BEFORE = 5  # cases accepted before the first restart
AFTER = 10  # cases opened after the last restart ended
MOST = 2000  # a stream that never ends is a failure too
SERVICES_WITH_QUEUES = (
    "intake",
    "diagnosis",
    "referrals",
    "reporting",
    "partnership",
    "notifications",
)


def restart_rabbitmq() -> None:
    subprocess.run(["rabbitmqctl", "-q", "stop_app"], check=True, capture_output=True, timeout=60)
    subprocess.run(["rabbitmqctl", "-q", "start_app"], check=True, capture_output=True, timeout=120)


def restart_postgres() -> None:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart", "-m", "fast"],
        check=True,
        capture_output=True,
        timeout=120,
    )


needs_root_tools = pytest.mark.skipif(
    shutil.which("rabbitmqctl") is None or shutil.which("pg_ctlcluster") is None,
    reason="restarting the broker and database needs rabbitmqctl and pg_ctlcluster here",
)


async def open_case(api: Api, who: dict[str, str], i: int) -> str:
    """Open one case, retrying through the outage; the idempotency key makes retries safe."""
    key = str(uuid.uuid4())
    body = a_household(GMINA, a_person("Test", f"Restart{i}", birth_date="1975-05-05", sex="M"))
    for _ in range(300):
        try:
            r = await api.call(
                "POST", "intake", "/cases", {**who, "Idempotency-Key": key}, json=body
            )
            if r.status_code == 201:
                return str(r.json()["case_id"])
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.1)  # the outage is the point of the test; try again
    raise AssertionError(f"case {i} was never accepted")


async def dead_letters(api: Api) -> dict[str, int]:
    """How many messages wait in each service's dead-letter queue."""
    connection = await aio_pika.connect(api.settings.amqp_url)
    try:
        channel = await connection.channel()
        counts = {}
        for service in SERVICES_WITH_QUEUES:
            queue = await channel.declare_queue(dead_letter_queue_name(service), passive=True)
            counts[service] = queue.declaration_result.message_count
        return counts
    finally:
        await connection.close()


@needs_root_tools
async def test_broker_and_database_restarts_lose_and_duplicate_nothing(
    api: Api, running: Stack
) -> None:
    caseworker = api.as_(Role.CASEWORKER, gmina=GMINA)
    accepted: list[str] = []
    restarts_ended = asyncio.Event()

    async def stream() -> None:
        """Cases until AFTER more have been opened since the restarts ended: both restarts
        fall inside the stream by construction, whatever they take."""
        after = 0
        for i in range(MOST):
            accepted.append(await open_case(api, caseworker, i))
            after += restarts_ended.is_set()
            if after >= AFTER:
                return
        raise AssertionError(f"the stream never ended: {MOST} cases")

    streaming = asyncio.create_task(stream())

    async def started() -> bool:
        assert not streaming.done(), "the stream ended before the restarts"
        return len(accepted) >= BEFORE

    dead_letters_before = await dead_letters(api)
    await api.eventually(started, within=60, what=f"{BEFORE} cases before the restarts")
    at_rabbitmq = len(accepted)
    await asyncio.to_thread(restart_rabbitmq)
    await asyncio.sleep(0.5)
    at_postgres = len(accepted)
    await asyncio.to_thread(restart_postgres)
    ended_at = len(accepted)
    restarts_ended.set()
    await streaming
    case_ids = accepted
    cases = len(case_ids)
    # mid-stream: cases before each restart and after both
    assert 0 < at_rabbitmq <= at_postgres <= ended_at < cases, (at_rabbitmq, at_postgres, cases)
    assert cases - ended_at >= AFTER

    # exact figures: the gmina's coordinator (an analyst's are perturbed)
    reader = api.as_(Role.COORDINATOR, gmina=GMINA)

    async def counted() -> dict[str, Any] | None:
        try:
            r = await api.call("GET", "reporting", "/reports/summary", reader)
        except httpx.HTTPError:
            return None
        if r.status_code != 200:
            return None
        rows = [g for g in r.json()["rows"] if g["key"] == GMINA]
        return rows[0] if rows and rows[0]["cases_opened"] >= cases else None

    row = await api.eventually(counted, within=120, what="reporting to count every case")
    assert len(set(case_ids)) == cases
    assert row["cases_opened"] == cases
    for name, proc in running.procs.items():
        assert proc.poll() is None, f"{name} died instead of reconnecting"
    # The outage was the database's and the broker's, not the events': none was given up.
    assert await dead_letters(api) == dead_letters_before
