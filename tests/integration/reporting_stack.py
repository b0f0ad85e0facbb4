"""The reporting service on the real runtime, on a RabbitMQ vhost and database of its own, so that
its event log (the stream) holds only what these tests publish: a rebuild must equal live."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import aio_pika
import asyncpg
import httpx
from aio_pika.abc import AbstractRobustConnection

from services.reporting import store
from services.reporting.app import spec
from shared.auth import Role, issue_token
from shared.envelope import CONTENT_TYPE, Envelope, wrap
from shared.events import Event, Place
from shared.runtime import ServiceRuntime
from shared.settings import Settings
from shared.teryt import terc
from shared.topology import declare_exchange
from tests.conftest import NAMESPACE, PORT_BASE
from tests.integration.conftest import eventually, start_runtime

VHOST = f"{NAMESPACE}_reporting"
PORT = PORT_BASE + 9


class _OwnSettings(Settings):
    def http_port(self, service: str) -> int:
        return PORT


def place(gmina: str) -> Place:
    return terc().gmina(gmina).place


@dataclass
class ReportingStack:
    settings: Settings
    runtime: ServiceRuntime
    amqp: AbstractRobustConnection
    pool: asyncpg.Pool
    http: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=120))

    def who(self, role: Role, **scope: Any) -> dict[str, str]:
        token = issue_token(self.settings, subject=f"it-{role}", role=role, **scope)
        return {"Authorization": f"Bearer {token}"}

    async def get(self, path: str, who: dict[str, str], **params: Any) -> httpx.Response:
        url = f"http://127.0.0.1:{PORT}/api/v1{path}"
        return await self.http.get(url, headers=who, params=params)

    async def post(self, path: str, who: dict[str, str]) -> httpx.Response:
        return await self.http.post(f"http://127.0.0.1:{PORT}/api/v1{path}", headers=who)

    async def publish(
        self, *items: Event | Envelope, time: datetime | None = None
    ) -> list[Envelope]:
        """Publish events (or ready envelopes, to send one twice) with confirms."""
        channel = await self.amqp.channel(publisher_confirms=True)
        exchange = await declare_exchange(channel, self.settings.exchange)
        sent = []
        for item in items:
            envelope = (
                item
                if isinstance(item, Envelope)
                else wrap(item, region=_region_of(item), service="test", time=time)
            )
            await exchange.publish(
                aio_pika.Message(
                    body=envelope.to_bytes(),
                    content_type=CONTENT_TYPE,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=envelope.routing_key,
            )
            sent.append(envelope)
        await channel.close()
        return sent

    async def handled(self, *event_ids: UUID) -> bool:
        count = await self.pool.fetchval(
            "SELECT count(*) FROM inbox WHERE event_id = ANY($1::uuid[])", list(event_ids)
        )
        return count == len(set(event_ids))

    async def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        async with self.pool.acquire() as conn:
            return await store.snapshot(conn)

    async def settle(self, envelopes: list[Envelope]) -> None:
        """Wait until the service has handled every one of these envelopes."""
        ids = [e.id for e in envelopes]
        await eventually(lambda: self.handled(*ids), within=60, what="the events to be handled")


def _region_of(event: Event) -> str:
    place_ = getattr(event, "place", None)
    return place_.region if place_ is not None else "06"


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


def _fresh_vhost() -> None:
    _drop_vhost()
    _rabbitmqctl("add_vhost", VHOST)
    _rabbitmqctl("set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*")


def _drop_vhost() -> None:
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", VHOST], capture_output=True)


async def start_reporting_stack() -> AsyncIterator[ReportingStack]:
    await asyncio.to_thread(_fresh_vhost)
    settings = _OwnSettings(
        amqp_url=f"amqp://guest:guest@127.0.0.1:5672/{VHOST}",
        database_prefix=f"{NAMESPACE}_rep{uuid4().hex[:6]}",
    )
    runtime = ServiceRuntime(spec, settings)
    amqp = await aio_pika.connect_robust(settings.amqp_url)
    task = await start_runtime(runtime, amqp)
    pool = await asyncpg.create_pool(settings.database_url("reporting"), min_size=1, max_size=3)
    stack = ReportingStack(settings, runtime, amqp, pool)
    try:
        yield stack
    finally:
        await stack.http.aclose()
        await stack.pool.close()
        runtime.stopping.set()
        await asyncio.wait_for(task, timeout=30)
        await amqp.close()
        await asyncio.to_thread(_drop_vhost)
