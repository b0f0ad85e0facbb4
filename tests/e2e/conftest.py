"""All four services started as their own processes, as `kooperacja up` does, on the test vhost
and databases; and an outside subscriber that records every event on the exchange."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aio_pika
import httpx
import pytest

from kooperacja import processes
from shared.auth import Role, issue_token
from shared.settings import Settings, get_settings
from shared.topology import declare_exchange


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
async def outside_subscriber(settings: Settings) -> AsyncIterator[list[bytes]]:
    """A subscribing system's view: every event on the exchange, from before the first case."""
    connection = await aio_pika.connect_robust(settings.amqp_url)
    channel = await connection.channel()
    exchange = await declare_exchange(channel, settings.exchange)
    queue = await channel.declare_queue("outside-subscriber", exclusive=True)
    await queue.bind(exchange, routing_key="#")
    received: list[bytes] = []

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        received.append(message.body)
        await message.ack()

    await queue.consume(on_message)
    yield received
    await connection.close()


@pytest.fixture(scope="session")
def stack(settings: Settings, outside_subscriber: list[bytes]) -> Iterator[Settings]:
    procs = processes.start(settings)
    try:
        processes.wait_ready(settings, procs, timeout=90)
        yield settings
    finally:
        processes.stop(procs)


class Api:
    """A person at a keyboard: HTTP calls with the token of a role."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.http = httpx.AsyncClient(timeout=10)

    def as_(self, role: Role, **scope: Any) -> dict[str, str]:
        token = issue_token(self.settings, subject=f"e2e-{role}", role=role, **scope)
        return {"Authorization": f"Bearer {token}"}

    async def call(
        self, method: str, service: str, path: str, who: dict[str, str], **kwargs: Any
    ) -> httpx.Response:
        url = f"{self.settings.base_url(service)}/api/v1{path}"
        return await self.http.request(method, url, headers=who, **kwargs)

    async def eventually(self, fetch: Any, *, within: float = 20, what: str = "it") -> Any:
        deadline = time.monotonic() + within
        while True:
            found = await fetch()
            if found:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {within}s waiting for {what}")
            await asyncio.sleep(0.1)


@pytest.fixture
async def api(stack: Settings) -> AsyncIterator[Api]:
    client = Api(stack)
    yield client
    await client.http.aclose()
