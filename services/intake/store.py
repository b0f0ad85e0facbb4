"""Intake's SQL. Nothing else touches intake's tables."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from services.intake.domain import NewCase


async def save_case(tx: asyncpg.Connection, case: NewCase, opened_by: str) -> None:
    await tx.execute(
        """INSERT INTO cases (case_id, gmina, reasons, notified_by, consent_to_share,
                              opened_on, opened_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        case.case_id,
        case.gmina.code,
        [str(r) for r in case.reasons],
        str(case.notified_by),
        case.consent_to_share,
        case.opened_on,
        opened_by,
    )
    await tx.executemany(
        """INSERT INTO members (person_id, case_id, position, first_name, last_name, birth_date,
                                sex, relation, pesel)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        [
            (
                m.person_id,
                case.case_id,
                i,
                m.first_name,
                m.last_name,
                m.birth_date,
                m.sex,
                m.relation,
                m.pesel,
            )
            for i, m in enumerate(case.members)
        ],
    )


async def get_case(conn: asyncpg.Connection, case_id: UUID) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM cases WHERE case_id = $1", case_id)
    if row is None:
        return None
    members = await conn.fetch(
        "SELECT * FROM members WHERE case_id = $1 ORDER BY position", case_id
    )
    return {**dict(row), "members": [dict(m) for m in members]}
