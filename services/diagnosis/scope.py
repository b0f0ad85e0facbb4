"""Which diagnosis a caller may see: loaded with its gmina's partner team (PZK), or 404 for one
outside the caller's scope (its existence is not shared)."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from services.diagnosis import domain, store
from services.diagnosis.domain import Diagnosis
from shared.auth import Principal
from shared.errors import NotFound


async def load_in_scope(
    conn: asyncpg.Connection, diagnosis_id: UUID, principal: Principal, *, lock: bool
) -> tuple[Diagnosis, domain.Partnership | None]:
    diagnosis = await store.load(conn, diagnosis_id, lock=lock)
    partnership = await store.partnership_of(conn, diagnosis.place.gmina) if diagnosis else None
    if diagnosis is None or not domain.sees(principal, diagnosis.place.gmina, partnership):
        raise NotFound("diagnosis_not_found", f"no diagnosis {diagnosis_id} in your scope")
    return diagnosis, partnership
