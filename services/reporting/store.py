"""Reporting's SQL: upserts of facts from events, and the aggregate queries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from shared.events import CaseOpened, SupportAssigned


async def case_opened(tx: asyncpg.Connection, e: CaseOpened) -> None:
    await tx.execute(
        """INSERT INTO case_facts (case_id, gmina, powiat, region, variant, opened_on,
                                   household_size)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (case_id) DO UPDATE
           SET opened_on = EXCLUDED.opened_on, household_size = EXCLUDED.household_size""",
        e.case_id,
        e.place.gmina,
        e.place.powiat,
        e.place.region,
        str(e.place.variant),
        e.opened_on,
        e.household_size,
    )


async def support_assigned(tx: asyncpg.Connection, e: SupportAssigned, at: datetime) -> None:
    await tx.execute(
        """INSERT INTO referral_facts (referral_id, case_id, gmina, powiat, region, variant,
                                       support_type, institution_id, sector, state, assigned_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'assigned', $10)
           ON CONFLICT (referral_id) DO NOTHING""",
        e.referral_id,
        e.case_id,
        e.place.gmina,
        e.place.powiat,
        e.place.region,
        str(e.place.variant),
        str(e.support_type),
        e.institution_id,
        str(e.sector),
        at,
    )


async def summary_by_gmina(conn: asyncpg.Connection, region: str | None) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """WITH cases AS (
               SELECT gmina, count(*) FILTER (WHERE opened_on IS NOT NULL) AS cases_opened
               FROM case_facts WHERE $1::text IS NULL OR region = $1 GROUP BY gmina),
           supports AS (
               SELECT gmina, count(*) AS supports_assigned
               FROM referral_facts WHERE $1::text IS NULL OR region = $1 GROUP BY gmina)
           SELECT gmina, coalesce(c.cases_opened, 0) AS cases_opened,
                  coalesce(s.supports_assigned, 0) AS supports_assigned
           FROM cases c FULL JOIN supports s USING (gmina)
           ORDER BY gmina""",
        region,
    )
    return [dict(r) for r in rows]
