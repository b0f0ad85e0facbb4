"""Referrals' SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.referrals.domain import Candidate
from shared.codes import Sector, SupportType
from shared.events import Place

OPEN_STATES = ("assigned", "accepted")


async def register_institution(tx: asyncpg.Connection, inst: dict[str, Any]) -> None:
    await tx.execute(
        """INSERT INTO institutions (institution_id, name, sector, support_types, gminas,
                                     powiats, capacity)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        inst["institution_id"],
        inst["name"],
        inst["sector"],
        inst["support_types"],
        inst["gminas"],
        inst["powiats"],
        inst["capacity"],
    )
    await tx.executemany(
        "INSERT INTO partnerships (gmina, institution_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        [(g, inst["institution_id"]) for g in inst["partnership_gminas"]],
    )


async def list_institutions(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT i.*, coalesce(array_agg(p.gmina) FILTER (WHERE p.gmina IS NOT NULL), '{}')
                  AS partnership_gminas
           FROM institutions i LEFT JOIN partnerships p USING (institution_id)
           GROUP BY i.institution_id ORDER BY i.name"""
    )
    return [dict(r) for r in rows]


async def partnership_of(tx: asyncpg.Connection, gmina: str) -> list[UUID]:
    rows = await tx.fetch(
        "SELECT institution_id FROM partnerships WHERE gmina = $1 ORDER BY institution_id", gmina
    )
    return [r["institution_id"] for r in rows]


async def candidates(
    tx: asyncpg.Connection, support_type: SupportType, place: Place
) -> list[Candidate]:
    """Active institutions offering the support in the gmina or its powiat, with their load.

    Rows are locked so that two routings at once cannot both take an institution's last place.
    """
    rows = await tx.fetch(
        """SELECT i.institution_id, i.sector, i.capacity,
                  $2 = ANY(i.gminas) AS serves_gmina,
                  EXISTS (SELECT 1 FROM partnerships p
                          WHERE p.gmina = $2 AND p.institution_id = i.institution_id)
                      AS in_partnership,
                  (SELECT count(*) FROM referrals r
                   WHERE r.institution_id = i.institution_id AND r.support_type = $1
                     AND r.state IN ('assigned', 'accepted')) AS open_referrals
           FROM institutions i
           WHERE i.active AND $1 = ANY(i.support_types)
             AND ($2 = ANY(i.gminas) OR $3 = ANY(i.powiats))
           ORDER BY i.institution_id
           FOR UPDATE OF i""",
        str(support_type),
        place.gmina,
        place.powiat,
    )
    return [
        Candidate(
            institution_id=r["institution_id"],
            sector=Sector(r["sector"]),
            serves_gmina=r["serves_gmina"],
            in_partnership=r["in_partnership"],
            capacity=r["capacity"],
            open_referrals=r["open_referrals"],
        )
        for r in rows
    ]


async def save_referral(
    tx: asyncpg.Connection,
    *,
    referral_id: UUID,
    recommendation_id: UUID,
    diagnosis_id: UUID,
    case_id: UUID,
    place: Place,
    support_type: SupportType,
    priority: int,
    institution_id: UUID | None,
    state: str,
    attempt: int,
    accept_by: datetime | None,
) -> None:
    await tx.execute(
        """INSERT INTO referrals (referral_id, recommendation_id, diagnosis_id, case_id, gmina,
                                  powiat, region, variant, support_type, priority,
                                  institution_id, state, attempt, accept_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)""",
        referral_id,
        recommendation_id,
        diagnosis_id,
        case_id,
        place.gmina,
        place.powiat,
        place.region,
        str(place.variant),
        str(support_type),
        priority,
        institution_id,
        state,
        attempt,
        accept_by,
    )


async def find_referrals(
    conn: asyncpg.Connection,
    *,
    institution_id: UUID | None,
    state: str | None,
    case_id: UUID | None,
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT referral_id, recommendation_id, case_id, gmina, support_type, priority,
                  institution_id, state, attempt, accept_by, complete_by, created_at
           FROM referrals
           WHERE ($1::uuid IS NULL OR institution_id = $1)
             AND ($2::text IS NULL OR state = $2)
             AND ($3::uuid IS NULL OR case_id = $3)
           ORDER BY created_at LIMIT 1000""",
        institution_id,
        state,
        case_id,
    )
    return [dict(r) for r in rows]
