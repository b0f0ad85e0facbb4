"""Every service's migrations (and the shared ones) are numbered once each: two helpers landing
a migration of the same number at once would otherwise leave a service that refuses to start."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.db import SHARED_MIGRATIONS, migration_files

ROOT = Path(__file__).parents[2]
FOLDERS = [SHARED_MIGRATIONS, *sorted((ROOT / "services").glob("*/migrations"))]


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: f.parent.name)
def test_each_migration_number_is_used_once(folder: Path) -> None:
    found = migration_files(folder)  # raises on a shared number
    assert found, f"no migrations in {folder}"
