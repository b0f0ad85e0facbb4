"""PostgreSQL access: create a service's own database if missing, open a pool, apply migrations.

Migrations are plain SQL files `NNNN_name.sql`, applied in order, each once, in one transaction
each, under an advisory lock so that several instances starting together do not race.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import asyncpg

from shared import locks

log = logging.getLogger(__name__)

SHARED_MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_FILE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


async def ensure_database(url: str) -> None:
    """Create the database named in `url` when the server does not have it yet."""
    base, _, name = url.rpartition("/")
    name = name.split("?")[0]
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ValueError(f"refusing to create a database with the name {name!r}")
    try:
        conn = await asyncpg.connect(url)
    except asyncpg.InvalidCatalogNameError:
        admin = await asyncpg.connect(f"{base}/postgres")
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
            log.info("created database %s", name)
        except asyncpg.DuplicateDatabaseError:
            pass
        finally:
            await admin.close()
    else:
        await conn.close()


def migration_files(folder: Path) -> list[tuple[int, Path]]:
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = _MIGRATION_FILE.match(path.name)
        if not match:
            raise ValueError(f"migration file name not of the form NNNN_name.sql: {path.name}")
        found.append((int(match.group(1)), path))
    versions = [v for v, _ in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"two migrations share a number in {folder}")
    return found


async def migrate(conn: asyncpg.Connection, scope: str, folder: Path) -> list[str]:
    """Apply the not yet applied migrations of `folder`; returns the file names applied."""
    applied_now: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", locks.MIGRATIONS)
    try:
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   scope text NOT NULL,
                   version int NOT NULL,
                   name text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now(),
                   PRIMARY KEY (scope, version))"""
        )
        done = {
            r["version"]
            for r in await conn.fetch(
                "SELECT version FROM schema_migrations WHERE scope = $1", scope
            )
        }
        for version, path in migration_files(folder):
            if version in done:
                continue
            async with conn.transaction():
                await conn.execute(path.read_text())
                await conn.execute(
                    "INSERT INTO schema_migrations (scope, version, name) VALUES ($1, $2, $3)",
                    scope,
                    version,
                    path.name,
                )
            applied_now.append(path.name)
            log.info("applied migration %s/%s", scope, path.name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", locks.MIGRATIONS)
    return applied_now


async def prepare_database(url: str, service: str, folder: Path) -> None:
    """Create the database if needed and bring its schema up to date (shared tables first)."""
    await ensure_database(url)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn, "shared", SHARED_MIGRATIONS)
        await migrate(conn, service, folder)
    finally:
        await conn.close()


async def create_pool(url: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size)
    assert pool is not None
    return pool
