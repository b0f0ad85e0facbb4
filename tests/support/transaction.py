"""One transaction fixture for fast handler tests: a service's database migrated once, and
each test inside a transaction rolled back at its end, so tests share nothing and need no
broker. A handler is called as the consumer calls it: (transaction, event, envelope)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg

from shared.db import prepare_database
from shared.settings import Settings

SERVICES = Path(__file__).parents[2] / "services"


async def migrated(settings: Settings, service: str) -> str:
    """The URL of a database of the service's schema, its own (not the service's)."""
    url = settings.database_url(f"handlers_{service}")
    await prepare_database(url, service, SERVICES / service / "migrations")
    return url


async def rolled_back(url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection inside a transaction that is rolled back whatever the test did."""
    conn = await asyncpg.connect(url)
    tx = conn.transaction()
    await tx.start()
    try:
        yield conn
    finally:
        await tx.rollback()
        await conn.close()
