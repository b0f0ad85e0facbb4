"""Run one real service in-process under a name of its own, talk to it over HTTP, feed it events
through the exchange and watch what it publishes — for intake's and diagnosis's integration tests.

The service runs under its own name (own queue, own database, own port), so it never competes
with the processes of the end-to-end tests that share the test vhost.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import aio_pika
import httpx
from aio_pika.abc import AbstractRobustConnection

from shared.auth import Role, issue_token
from shared.envelope import CONTENT_TYPE, Envelope, parse_envelope, wrap
from shared.events import Event
from shared.runtime import ServiceRuntime, ServiceSpec
from shared.settings import Settings
from shared.teryt import terc
from shared.topology import declare_exchange
from tests.conftest import PORT_BASE
from tests.integration.conftest import eventually


class Service:
    """A running service as its callers see it: HTTP with a role's token."""

    def __init__(self, settings: Settings, name: str, base_url: str) -> None:
        self.settings = settings
        self.name = name
        self.base_url = base_url
        self.http = httpx.AsyncClient(base_url=f"{base_url}/api/v1", timeout=10)

    def as_(self, role: Role, subject: str | None = None, **scope: Any) -> dict[str, str]:
        token = issue_token(self.settings, subject=subject or f"it-{role}", role=role, **scope)
        return {"Authorization": f"Bearer {token}"}

    async def call(
        self, method: str, path: str, who: dict[str, str], **kwargs: Any
    ) -> httpx.Response:
        headers = {**who, **kwargs.pop("headers", {})}
        return await self.http.request(method, path, headers=headers, **kwargs)


@asynccontextmanager
async def running(
    spec: ServiceSpec, name: str, port_offset: int, settings: Settings
) -> AsyncIterator[Service]:
    """The service of `spec` started under `name` on PORT_BASE + port_offset until the end."""
    os.environ[f"KOOP_{name.upper()}_PORT"] = str(PORT_BASE + port_offset)
    runtime = ServiceRuntime(dataclasses.replace(spec, name=name), settings)
    task = asyncio.create_task(runtime.run())
    service = Service(settings, name, settings.base_url(name))

    async def ready() -> bool:
        if task.done():
            task.result()  # surfaces a start-up failure
        try:
            async with httpx.AsyncClient(timeout=2) as client:
                response = await client.get(f"{service.base_url}/ready")
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    await eventually(ready, what=f"{name} to be ready", within=60)
    try:
        yield service
    finally:
        await service.http.aclose()
        runtime.stopping.set()
        await asyncio.wait_for(task, timeout=30)


async def publish(
    amqp: AbstractRobustConnection,
    settings: Settings,
    event: Event,
    *,
    service: str = "referrals",
    sequence: int | None = None,
    time: datetime | None = None,
) -> Envelope:
    """Publish an event onto the exchange as another service would, in its CloudEvents envelope."""
    envelope = wrap(event, region="06", service=service, sequence=sequence, time=time)
    channel = await amqp.channel(publisher_confirms=True)
    try:
        exchange = await declare_exchange(channel, settings.exchange)
        await exchange.publish(
            aio_pika.Message(
                body=envelope.to_bytes(),
                content_type=CONTENT_TYPE,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=str(envelope.id),
            ),
            routing_key=event.routing_key,
        )
    finally:
        await channel.close()
    return envelope


class EventTap:
    """Every event on the exchange from the moment it is opened, as a subscriber receives it."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def about(self, subject: object, routing_key: str | None = None) -> list[Envelope]:
        found = [parse_envelope(b) for b in self.bodies if str(subject).encode() in b]
        return [
            e
            for e in found
            if e.subject == str(subject) and (routing_key is None or e.routing_key == routing_key)
        ]

    async def wait_for(self, subject: object, routing_key: str, count: int = 1) -> list[Envelope]:
        async def arrived() -> list[Envelope] | None:
            found = self.about(subject, routing_key)
            return found if len(found) >= count else None

        return await eventually(arrived, what=f"{routing_key} about {subject}")


@asynccontextmanager
async def tapped(amqp: AbstractRobustConnection, settings: Settings) -> AsyncIterator[EventTap]:
    channel = await amqp.channel()
    exchange = await declare_exchange(channel, settings.exchange)
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(exchange, routing_key="#")
    tap = EventTap()

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        tap.bodies.append(message.body)
        await message.ack()

    await queue.consume(on_message)
    try:
        yield tap
    finally:
        await channel.close()


class Gminas:
    """Real gmina codes handed out one per test, so counts in one gmina belong to one test."""

    def __init__(self, region: str) -> None:
        self._codes = iter(sorted(g.code for g in terc().in_region(region)))

    def fresh(self) -> str:
        return next(self._codes)
