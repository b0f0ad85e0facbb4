"""The migration runner: in order, each once, safe when several instances start together."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from shared.db import SHARED_MIGRATIONS, ensure_database, migrate, migration_files
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


async def test_the_shared_tables_upgrade_a_database_that_has_them_from_a_service(
    settings: Settings,
) -> None:
    """Databases made before idempotency_keys and audit_log became shared migrations have them
    from the service's own: the shared migrations apply over them and keep their rows."""
    url = settings.database_url("shared_upgrade")
    await ensure_database(url)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            """DROP SCHEMA public CASCADE; CREATE SCHEMA public;
               CREATE TABLE idempotency_keys (principal text NOT NULL, key text NOT NULL,
                   request_hash text NOT NULL, status int NOT NULL, body jsonb NOT NULL,
                   created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (principal, key));
               INSERT INTO idempotency_keys VALUES ('p', 'k', 'h', 201, '{}');
               CREATE TABLE audit_log (entry_id bigserial PRIMARY KEY,
                   at timestamptz NOT NULL DEFAULT now(), subject text NOT NULL,
                   role text NOT NULL, institution uuid, diagnosis_id uuid NOT NULL,
                   case_id uuid NOT NULL, gmina char(7) NOT NULL, access text NOT NULL,
                   purpose text NOT NULL);
               CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP; END $$;
               CREATE TRIGGER audit_log_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_log
                   FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();"""
        )
        applied = await migrate(conn, "shared", SHARED_MIGRATIONS)
        assert "0002_idempotency_keys.sql" in applied and "0003_audit_log.sql" in applied
        assert await conn.fetchval("SELECT count(*) FROM idempotency_keys") == 1
        await conn.execute(
            """INSERT INTO audit_log (subject, role, diagnosis_id, case_id, gmina, access,
                                      purpose)
               VALUES ('s', 'system', gen_random_uuid(), gen_random_uuid(), '0601032', 'a', 'p')"""
        )
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("TRUNCATE audit_log")
    finally:
        await conn.close()
