"""Diagnosis's SQL."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import asyncpg

from services.diagnosis.domain import Assessment, Diagnosis
from shared.codes import NeedArea, SupportType
from shared.events import Place


async def open_diagnosis(tx: asyncpg.Connection, case_id: UUID, place: Place) -> UUID | None:
    """Open the case's diagnosis unless it has one or the case is already closed."""
    if await tx.fetchval("SELECT true FROM closed_cases WHERE case_id = $1", case_id):
        return None
    return await tx.fetchval(
        """INSERT INTO diagnoses (diagnosis_id, case_id, gmina, powiat, region, variant)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (case_id) DO NOTHING
           RETURNING diagnosis_id""",
        uuid4(),
        case_id,
        place.gmina,
        place.powiat,
        place.region,
        str(place.variant),
    )


async def cancel_for_case(tx: asyncpg.Connection, case_id: UUID) -> None:
    await tx.execute(
        "INSERT INTO closed_cases (case_id) VALUES ($1) ON CONFLICT DO NOTHING", case_id
    )
    await tx.execute(
        "UPDATE diagnoses SET status = 'cancelled' WHERE case_id = $1 AND status = 'open'",
        case_id,
    )


async def load(
    conn: asyncpg.Connection, diagnosis_id: UUID, *, lock: bool = False
) -> Diagnosis | None:
    row = await conn.fetchrow(
        "SELECT * FROM diagnoses WHERE diagnosis_id = $1" + (" FOR UPDATE" if lock else ""),
        diagnosis_id,
    )
    if row is None:
        return None
    assessments = []
    for a in await conn.fetch(
        "SELECT * FROM assessments WHERE diagnosis_id = $1 ORDER BY created_at", diagnosis_id
    ):
        recs = await conn.fetch(
            "SELECT * FROM recommendations WHERE assessment_id = $1", a["assessment_id"]
        )
        assessments.append(
            Assessment(
                assessment_id=a["assessment_id"],
                institution_id=a["institution_id"],
                need_area=NeedArea(a["need_area"]),
                severity=a["severity"],
                recommendations=[
                    (r["recommendation_id"], SupportType(r["support_type"]), r["priority"])
                    for r in recs
                ],
            )
        )
    place = Place(
        gmina=row["gmina"], powiat=row["powiat"], region=row["region"], variant=row["variant"]
    )
    return Diagnosis(row["diagnosis_id"], row["case_id"], place, row["status"], assessments)


async def add_assessment(
    tx: asyncpg.Connection, diagnosis_id: UUID, assessment: Assessment, author: str, notes: str
) -> None:
    await tx.execute(
        """INSERT INTO assessments (assessment_id, diagnosis_id, institution_id, author,
                                    need_area, severity, notes)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        assessment.assessment_id,
        diagnosis_id,
        assessment.institution_id,
        author,
        str(assessment.need_area),
        assessment.severity,
        notes,
    )
    await tx.executemany(
        """INSERT INTO recommendations (recommendation_id, assessment_id, support_type, priority)
           VALUES ($1, $2, $3, $4)""",
        [(rid, assessment.assessment_id, str(st), p) for rid, st, p in assessment.recommendations],
    )


async def mark_completed(tx: asyncpg.Connection, diagnosis_id: UUID) -> None:
    await tx.execute(
        "UPDATE diagnoses SET status = 'completed', completed_at = now() WHERE diagnosis_id = $1",
        diagnosis_id,
    )


async def find(
    conn: asyncpg.Connection, *, case_id: UUID | None, gminas: list[str] | None, status: str | None
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT diagnosis_id, case_id, gmina, status, opened_at, completed_at FROM diagnoses
           WHERE ($1::uuid IS NULL OR case_id = $1)
             AND ($2::text IS NULL OR status = $2)
           ORDER BY opened_at DESC LIMIT 500""",
        case_id,
        status,
    )
    return [dict(r) for r in rows]
