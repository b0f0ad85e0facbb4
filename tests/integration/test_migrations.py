"""The migration runner: in order, each once, safe when several instances start together."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from shared.db import ensure_database, migrate, migration_files
from shared.settings import Settings

pytestmark = pytest.mark.integration


def write(folder: Path, name: str, sql: str) -> None:
    (folder / name).write_text(sql)


async def test_migrations_apply_in_order_once_even_when_run_concurrently(
    settings: Settings, tmp_path: Path
) -> None:
    url = settings.database_url("migrations")
    await ensure_database(url)
    write(tmp_path, "0001_first.sql", "CREATE TABLE things (id int PRIMARY KEY);")
    write(tmp_path, "0002_second.sql", "ALTER TABLE things ADD COLUMN label text NOT NULL;")
    write(tmp_path, "0010_third.sql", "INSERT INTO things VALUES (1, 'one');")

    conns = [await asyncpg.connect(url) for _ in range(3)]
    try:
        results = await asyncio.gather(*(migrate(c, "demo", tmp_path) for c in conns))
        applied = [name for result in results for name in result]
        assert sorted(applied) == ["0001_first.sql", "0002_second.sql", "0010_third.sql"]
        assert await conns[0].fetchval("SELECT count(*) FROM things") == 1

        write(tmp_path, "0011_fourth.sql", "INSERT INTO things VALUES (2, 'two');")
        assert await migrate(conns[0], "demo", tmp_path) == ["0011_fourth.sql"]
        assert await migrate(conns[0], "demo", tmp_path) == []
        versions = await conns[0].fetch(
            "SELECT version FROM schema_migrations WHERE scope = 'demo' ORDER BY version"
        )
        assert [r["version"] for r in versions] == [1, 2, 10, 11]
    finally:
        for c in conns:
            await c.close()


async def test_a_failing_migration_leaves_nothing_half_applied(
    settings: Settings, tmp_path: Path
) -> None:
    url = settings.database_url("migrations")
    await ensure_database(url)
    write(tmp_path, "0001_ok.sql", "CREATE TABLE kept (id int);")
    write(tmp_path, "0002_broken.sql", "CREATE TABLE lost (id int); SELECT no_such_function();")
    conn = await asyncpg.connect(url)
    try:
        with pytest.raises(asyncpg.UndefinedFunctionError):
            await migrate(conn, "broken", tmp_path)
        assert await conn.fetchval("SELECT to_regclass('kept') IS NOT NULL")
        assert await conn.fetchval("SELECT to_regclass('lost') IS NULL")
        done = await conn.fetch("SELECT version FROM schema_migrations WHERE scope = 'broken'")
        assert [r["version"] for r in done] == [1]
    finally:
        await conn.close()


def test_badly_named_or_duplicate_migrations_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "1_init.sql", "")
    with pytest.raises(ValueError, match="NNNN_name"):
        migration_files(tmp_path)
    (tmp_path / "1_init.sql").unlink()
    write(tmp_path, "0001_a.sql", "")
    write(tmp_path, "0001_b.sql", "")
    with pytest.raises(ValueError, match="share a number"):
        migration_files(tmp_path)
