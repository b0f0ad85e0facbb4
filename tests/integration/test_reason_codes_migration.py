"""An installation from before the art. 7 fix: the migrations of intake and reporting rewrite
the reason codes they store (old 10→11, 11→12, 12→13, 13→14, 14→15, 15→15)."""

from __future__ import annotations

import shutil
from pathlib import Path
from uuid import uuid4

import asyncpg
import pytest

from shared.db import SHARED_MIGRATIONS, ensure_database, migrate, migration_files
from shared.settings import Settings

pytestmark = pytest.mark.integration

SERVICES = Path(__file__).parents[2] / "services"
# (stored before, expected after) for each service's way of ordering the codes
OLD_AND_NEW = [
    (["10"], ["11"]),
    (["1", "11"], ["1", "12"]),
    (["12", "7a"], ["13", "7a"]),
    (["13"], ["14"]),
    (["14", "15"], ["15"]),
    (["15"], ["15"]),
    (["4", "9"], ["4", "9"]),
]


async def _installation_before_the_fix(
    settings: Settings, tmp_path: Path, service: str, fix: str
) -> asyncpg.Connection:
    """A database of `service` with every migration before `fix` applied."""
    url = settings.database_url(f"reasons_{service}")
    await ensure_database(url)
    for _, path in migration_files(SERVICES / service / "migrations"):
        if path.name < fix:
            shutil.copy(path, tmp_path / path.name)
    conn = await asyncpg.connect(url)
    # As every service starts: the shared tables first (outbox, idempotency keys, audit log).
    await migrate(conn, "shared", SHARED_MIGRATIONS)
    await migrate(conn, service, tmp_path)
    return conn


async def test_intake_migration_renumbers_stored_reasons_in_statute_order(
    settings: Settings, tmp_path: Path
) -> None:
    conn = await _installation_before_the_fix(
        settings, tmp_path, "intake", "0006_statute_reason_codes.sql"
    )
    try:
        ids = [uuid4() for _ in OLD_AND_NEW]
        for case_id, (old, _) in zip(ids, OLD_AND_NEW, strict=True):
            await conn.execute(
                """INSERT INTO cases (case_id, gmina, reasons, notified_by, consent_to_share,
                                      opened_on, opened_by)
                   VALUES ($1, '0601032', $2, 'self', false, '2025-01-02', 'test')""",
                case_id,
                old,
            )
        applied = await migrate(conn, "intake", SERVICES / "intake" / "migrations")
        assert "0006_statute_reason_codes.sql" in applied
        for case_id, (_, new) in zip(ids, OLD_AND_NEW, strict=True):
            stored = await conn.fetchval("SELECT reasons FROM cases WHERE case_id = $1", case_id)
            # intake keeps the statute's order: 7a after 7, 13 after 9
            assert stored == sorted(new, key=lambda c: (int(c.rstrip("a")), c))
    finally:
        await conn.close()


async def test_reporting_migration_renumbers_the_case_facts(
    settings: Settings, tmp_path: Path
) -> None:
    conn = await _installation_before_the_fix(
        settings, tmp_path, "reporting", "0004_statute_reason_codes.sql"
    )
    try:
        ids = [uuid4() for _ in OLD_AND_NEW]
        for case_id, (old, _) in zip(ids, OLD_AND_NEW, strict=True):
            await conn.execute(
                """INSERT INTO case_facts (case_id, gmina, powiat, region, variant, reasons)
                   VALUES ($1, '0601032', '0601', '06', 'rural', $2)""",
                case_id,
                sorted(old),
            )
        applied = await migrate(conn, "reporting", SERVICES / "reporting" / "migrations")
        assert "0004_statute_reason_codes.sql" in applied
        for case_id, (_, new) in zip(ids, OLD_AND_NEW, strict=True):
            stored = await conn.fetchval(
                "SELECT reasons FROM case_facts WHERE case_id = $1", case_id
            )
            assert stored == sorted(new)  # as domain.facts_of writes them
    finally:
        await conn.close()
