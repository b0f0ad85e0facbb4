"""Diagnosis's SQL."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from services.diagnosis.domain import Added, Assessment, Diagnosis, Partnership
from shared import audit_log, case_state
from shared.auth import Principal
from shared.codes import NeedArea, Sector, SupportType
from shared.events import InstitutionRegistered, PartnershipChanged, Place, Recommendation

# --- the case's open/closed state, from intake's events -------------------------------------


async def _closed_round(tx: asyncpg.Connection, case_id: UUID) -> int:
    return await case_state.closed_round(tx, "closed_cases", case_id)


async def open_diagnosis(
    tx: asyncpg.Connection, case_id: UUID, place: Place, round: int
) -> UUID | None:
    """Open the case's diagnosis unless it has one. When the closing of its round came first,
    the diagnosis is recorded cancelled, so that a reopening finds it and opens it again."""
    status = "cancelled" if await _closed_round(tx, case_id) >= round else "open"
    return await tx.fetchval(
        """INSERT INTO diagnoses (diagnosis_id, case_id, gmina, powiat, region, variant,
                                  round, status)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (case_id) DO NOTHING
           RETURNING diagnosis_id""",
        uuid4(),
        case_id,
        place.gmina,
        place.powiat,
        place.region,
        str(place.variant),
        round,
        status,
    )


async def close_round(
    tx: asyncpg.Connection, case_id: UUID, round: int, sequence: int | None
) -> None:
    """Intake closed the case, ending `round`: an open diagnosis of that round (or an earlier
    one) is cancelled; a completed one stays completed. A late closing of an earlier round
    changes nothing."""
    await case_state.record(
        tx, "closed_cases", case_id, closed=True, round=round, sequence=sequence
    )
    await tx.execute(
        """UPDATE diagnoses SET status = 'cancelled'
           WHERE case_id = $1 AND status = 'open' AND round <= $2""",
        case_id,
        round,
    )


async def reopen_round(
    tx: asyncpg.Connection, case_id: UUID, round: int, sequence: int | None
) -> None:
    """Intake reopened the case, starting `round`: its diagnosis (cancelled, or completed in an
    earlier round) is open again, for the team to review, unless that round is known closed
    already. A late reopening of an earlier round changes nothing."""
    await case_state.record(
        tx, "closed_cases", case_id, closed=False, round=round, sequence=sequence
    )
    await tx.execute(
        """UPDATE diagnoses d
           SET round = $2,
               status = CASE WHEN $2 > $3 THEN 'open' ELSE d.status END
           WHERE d.case_id = $1 AND d.round < $2""",
        case_id,
        round,
        await _closed_round(tx, case_id),
    )


async def follow_place(
    tx: asyncpg.Connection, case_id: UUID, place: Place, sequence: int | None
) -> None:
    """Intake said where the case is (its opening, consent, a transfer): the word latest in
    intake's sequence stands, and the case's diagnosis (with its plan) is there, so the PZK,
    coordinator and caseworkers of that gmina are the ones who see and act on it."""
    await tx.execute(
        """INSERT INTO case_places AS p (case_id, gmina, powiat, region, variant, sequence)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (case_id) DO UPDATE
               SET gmina = $2, powiat = $3, region = $4, variant = $5, sequence = $6
               WHERE p.sequence < $6""",
        case_id,
        place.gmina,
        place.powiat,
        place.region,
        str(place.variant),
        sequence or 0,
    )
    await tx.execute(
        """UPDATE diagnoses d
           SET gmina = p.gmina, powiat = p.powiat, region = p.region, variant = p.variant
           FROM case_places p
           WHERE p.case_id = $1 AND d.case_id = $1 AND d.gmina <> p.gmina""",
        case_id,
    )


async def settle_consent(
    tx: asyncpg.Connection,
    case_id: UUID,
    shared: bool,
    on_day: date,
    sequence: int | None,
    scope: list[Sector] | None = None,
) -> None:
    """Record consent given (with the sectors it covers) or withdrawn unless a later event of
    intake already said otherwise."""
    await tx.execute(
        """INSERT INTO case_consent (case_id, shared, on_day, sequence, scope)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (case_id) DO UPDATE SET shared = $2, on_day = $3, sequence = $4, scope = $5
           WHERE case_consent.sequence < $4""",
        case_id,
        shared,
        on_day,
        sequence if sequence is not None else 0,
        [str(s) for s in scope or []],
    )


async def consent_of(
    conn: asyncpg.Connection, case_id: UUID
) -> tuple[date | None, tuple[Sector, ...]]:
    """The day the family withdrew its consent while that withdrawal stands (else None), and
    the sectors the consent in effect covers (empty: every sector)."""
    row = await conn.fetchrow(
        "SELECT shared, on_day, scope FROM case_consent WHERE case_id = $1", case_id
    )
    if row is None:
        return None, ()
    if not row["shared"]:
        return row["on_day"], ()
    return None, tuple(Sector(s) for s in row["scope"])


# --- the partner teams and their institutions, from referrals' events -----------------------


async def save_partnership(tx: asyncpg.Connection, event: PartnershipChanged, at: datetime) -> None:
    """Each event carries the full list; an older one arriving late changes nothing."""
    await tx.execute(
        """INSERT INTO partnerships (gmina, institutions, coordinator_institution, as_of)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (gmina) DO UPDATE
               SET institutions = $2, coordinator_institution = $3, as_of = $4
               WHERE partnerships.as_of <= $4""",
        event.gmina,
        event.institutions,
        event.coordinator_institution,
        at,
    )


async def save_institution(
    tx: asyncpg.Connection, event: InstitutionRegistered, at: datetime
) -> None:
    await tx.execute(
        """INSERT INTO institutions (institution_id, name, sector, active, as_of)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (institution_id) DO UPDATE
               SET name = $2, sector = $3, active = $4, as_of = $5
               WHERE institutions.as_of <= $5""",
        event.institution_id,
        event.name,
        str(event.sector),
        event.active,
        at,
    )


async def partnership_of(conn: asyncpg.Connection, gmina: str) -> Partnership | None:
    row = await conn.fetchrow("SELECT institutions FROM partnerships WHERE gmina = $1", gmina)
    if row is None:
        return None
    inactive = await conn.fetch(
        "SELECT institution_id FROM institutions WHERE NOT active AND institution_id = ANY($1)",
        row["institutions"],
    )
    return Partnership(
        gmina=gmina,
        institutions=frozenset(row["institutions"]),
        inactive=frozenset(r["institution_id"] for r in inactive),
    )


async def gminas_of_institution(conn: asyncpg.Connection, institution: UUID) -> list[str]:
    rows = await conn.fetch(
        """SELECT p.gmina FROM partnerships p
           WHERE $1 = ANY(p.institutions)
             AND NOT EXISTS (SELECT 1 FROM institutions i
                             WHERE i.institution_id = $1 AND NOT i.active)""",
        institution,
    )
    return [r["gmina"] for r in rows]


# --- diagnoses ------------------------------------------------------------------------------


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
                round=a["round"],
            )
        )
    changes = await conn.fetch(
        "SELECT * FROM revision_changes WHERE diagnosis_id = $1 ORDER BY revision", diagnosis_id
    )
    place = Place(
        gmina=row["gmina"], powiat=row["powiat"], region=row["region"], variant=row["variant"]
    )
    withdrawn_on, scope = await consent_of(conn, row["case_id"])
    planned = await conn.fetch(
        """SELECT unnest(g.supports) AS rid FROM plans p
           JOIN plan_goals g ON g.plan_id = p.plan_id AND g.version = p.version
           WHERE p.diagnosis_id = $1""",
        diagnosis_id,
    )
    return Diagnosis(
        row["diagnosis_id"],
        row["case_id"],
        place,
        row["status"],
        assessments,
        round=row["round"],
        completed_before=row["completed_at"] is not None,
        case_closed=await _closed_round(conn, row["case_id"]) >= row["round"],
        revision=row["revision"],
        added=[
            Added(
                Recommendation(
                    recommendation_id=c["recommendation_id"],
                    support_type=c["support_type"],
                    need_area=c["need_area"],
                    priority=c["priority"],
                ),
                c["round"],
            )
            for c in changes
            if c["change"] == "added"
        ],
        dropped={c["recommendation_id"] for c in changes if c["change"] == "dropped"},
        consent_withdrawn_on=withdrawn_on,
        consent_scope=scope,
        planned={r["rid"] for r in planned},
    )


async def diagnosis_of_case(conn: asyncpg.Connection, case_id: UUID) -> UUID | None:
    return await conn.fetchval(
        "SELECT diagnosis_id FROM diagnoses WHERE case_id = $1 ORDER BY opened_at DESC LIMIT 1",
        case_id,
    )


async def add_assessment(
    tx: asyncpg.Connection, diagnosis_id: UUID, assessment: Assessment, author: str, notes: str
) -> None:
    await tx.execute(
        """INSERT INTO assessments (assessment_id, diagnosis_id, institution_id, author,
                                    need_area, severity, notes, round)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        assessment.assessment_id,
        diagnosis_id,
        assessment.institution_id,
        author,
        str(assessment.need_area),
        assessment.severity,
        notes,
        assessment.round,
    )
    await tx.executemany(
        """INSERT INTO recommendations (recommendation_id, assessment_id, support_type, priority)
           VALUES ($1, $2, $3, $4)""",
        [(rid, assessment.assessment_id, str(st), p) for rid, st, p in assessment.recommendations],
    )


async def mark_completed(tx: asyncpg.Connection, diagnosis: Diagnosis) -> None:
    """The diagnosis, or the review of a reopened round, is concluded; a first completion's
    time stays that of the diagnosis."""
    await tx.execute(
        """UPDATE diagnoses SET status = 'completed', revision = $2,
                  completed_at = coalesce(completed_at, now()),
                  revised_at = CASE WHEN completed_at IS NULL THEN revised_at ELSE now() END
           WHERE diagnosis_id = $1""",
        diagnosis.diagnosis_id,
        diagnosis.revision,
    )


async def save_revision(
    tx: asyncpg.Connection,
    diagnosis: Diagnosis,
    added: list[Recommendation],
    dropped: set[UUID],
) -> None:
    """A revision's changes: the recommendations it added (in the diagnosis's round) and every
    recommendation it dropped (all of a dropped support's)."""
    await tx.executemany(
        """INSERT INTO revision_changes (recommendation_id, diagnosis_id, revision, change,
                                         support_type, need_area, priority, round)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        [
            (
                r.recommendation_id,
                diagnosis.diagnosis_id,
                diagnosis.revision,
                "added",
                str(r.support_type),
                str(r.need_area),
                r.priority,
                diagnosis.round,
            )
            for r in added
        ]
        + [
            (rid, diagnosis.diagnosis_id, diagnosis.revision, "dropped", None, None, None, 1)
            for rid in sorted(dropped, key=str)
        ],
    )
    await tx.execute(
        """UPDATE diagnoses SET revision = $2, revised_at = now(), status = 'completed'
           WHERE diagnosis_id = $1""",
        diagnosis.diagnosis_id,
        diagnosis.revision,
    )


async def assessment_rows(conn: asyncpg.Connection, diagnosis_id: UUID) -> list[dict[str, Any]]:
    """The assessments without their notes (special-category data, read apart: `notes_of`)."""
    rows = await conn.fetch(
        """SELECT a.assessment_id, a.institution_id, i.name AS institution_name, a.author,
                  a.need_area, a.severity, a.notes <> '' AS has_notes, a.created_at
           FROM assessments a LEFT JOIN institutions i USING (institution_id)
           WHERE a.diagnosis_id = $1 ORDER BY a.created_at""",
        diagnosis_id,
    )
    return [dict(r) for r in rows]


async def notes_of(conn: asyncpg.Connection, diagnosis_id: UUID) -> list[dict[str, Any]]:
    """The notes of the diagnosis's assessments: special-category data, read only audited."""
    rows = await conn.fetch(
        """SELECT a.assessment_id, a.institution_id, i.name AS institution_name, a.author,
                  a.need_area, a.notes, a.created_at
           FROM assessments a LEFT JOIN institutions i USING (institution_id)
           WHERE a.diagnosis_id = $1 AND a.notes <> '' ORDER BY a.created_at""",
        diagnosis_id,
    )
    return [dict(r) for r in rows]


async def sector_of(conn: asyncpg.Connection, institution_id: UUID) -> Sector | None:
    """An institution's sector as the directory announced it; None when unknown."""
    found = await conn.fetchval(
        "SELECT sector FROM institutions WHERE institution_id = $1", institution_id
    )
    return Sector(found) if found else None


async def audit(
    tx: asyncpg.Connection, principal: Principal, diagnosis: Diagnosis, access: str, purpose: str
) -> None:
    await audit_log.record(
        tx,
        principal,
        case_id=diagnosis.case_id,
        gmina=diagnosis.place.gmina,
        access=access,
        purpose=purpose,
        also={"diagnosis_id": diagnosis.diagnosis_id},
    )


async def anonymise_case(tx: asyncpg.Connection, case_id: UUID, why: str) -> int:
    """Erase what diagnosis holds of the case as personal data: its assessments' notes, its
    plan's goals and its goals' reviews in words; audited. Idempotent: a second announcement
    that finds nothing left to erase changes nothing. Returns how many texts were erased."""
    row = await tx.fetchrow(
        "SELECT diagnosis_id, gmina, anonymised_at FROM diagnoses WHERE case_id = $1 FOR UPDATE",
        case_id,
    )
    if row is None:
        return 0
    notes = await tx.execute(
        "UPDATE assessments SET notes = '' WHERE diagnosis_id = $1 AND notes <> ''",
        row["diagnosis_id"],
    )
    goals = await tx.execute(
        """UPDATE plan_goals SET description = '' WHERE description <> ''
              AND plan_id IN (SELECT plan_id FROM plans WHERE diagnosis_id = $1)""",
        row["diagnosis_id"],
    )
    reviews = await tx.execute(
        """UPDATE goal_reviews SET note = '' WHERE note <> ''
              AND plan_id IN (SELECT plan_id FROM plans WHERE diagnosis_id = $1)""",
        row["diagnosis_id"],
    )
    erased = int(notes.split()[-1]) + int(goals.split()[-1]) + int(reviews.split()[-1])
    if row["anonymised_at"] is not None and not erased:
        return 0
    await tx.execute(
        "UPDATE diagnoses SET anonymised_at = coalesce(anonymised_at, now()) WHERE case_id = $1",
        case_id,
    )
    await audit_log.record(
        tx,
        None,
        actor="diagnosis-retention",
        case_id=case_id,
        gmina=row["gmina"],
        access="anonymised",
        purpose=f"{why}; erased {erased} notes and goals in words",
        also={"diagnosis_id": row["diagnosis_id"]},
    )
    return erased


async def find(
    conn: asyncpg.Connection,
    *,
    case_id: UUID | None,
    scope_gminas: list[str],
    team_gminas: list[str],
    status: str | None,
    limit: int = 500,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Diagnoses of the gminas of a territorial scope (a gmina's, powiat's or region's codes)
    or of the given gminas (the PZKs an institution sits on), newest first, a page at a time;
    each with how many assessments it has and which institutions made them."""
    rows = await conn.fetch(
        """SELECT d.diagnosis_id, d.case_id, d.gmina, d.status, d.round, d.revision, d.opened_at,
                  d.completed_at, a.assessments, a.institutions_assessed
           FROM diagnoses d,
                LATERAL (SELECT count(*) AS assessments,
                                coalesce(array_agg(DISTINCT x.institution_id)
                                         FILTER (WHERE x.institution_id IS NOT NULL), '{}')
                                    AS institutions_assessed
                         FROM assessments x WHERE x.diagnosis_id = d.diagnosis_id) a
           WHERE ($1::uuid IS NULL OR d.case_id = $1)
             AND (d.gmina = ANY($2::text[]) OR d.gmina = ANY($3::text[]))
             AND ($4::text IS NULL OR d.status = $4)
           ORDER BY d.opened_at DESC, d.diagnosis_id LIMIT $5 OFFSET $6""",
        case_id,
        scope_gminas,
        team_gminas,
        status,
        limit,
        offset,
    )
    return [dict(r) for r in rows]
