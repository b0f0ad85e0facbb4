"""The SQL of the partnership's meetings: attendance, cases discussed, decisions."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from services.partnership.domain import DecisionDraft
from shared.codes import Sector
from shared.events import MeetingAttendance, MeetingDecisionRecorded, MeetingHeld
from shared.teryt import terc


async def add_meeting(
    tx: asyncpg.Connection,
    pid: UUID,
    *,
    held_on: date,
    agenda: str,
    minutes: str,
    attendance: list[UUID],
    cases: list[UUID],
    actor: str,
) -> UUID:
    meeting_id = uuid4()
    await tx.execute(
        """INSERT INTO meetings (meeting_id, partnership_id, held_on, agenda, minutes, recorded_by)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        meeting_id,
        pid,
        held_on,
        agenda,
        minutes,
        actor,
    )
    sectors = dict(
        (r["institution_id"], r["sector"])
        for r in await tx.fetch(
            "SELECT institution_id, sector FROM institutions WHERE institution_id = ANY($1)",
            attendance,
        )
    )
    await tx.executemany(
        "INSERT INTO meeting_attendance (meeting_id, institution_id, sector) VALUES ($1, $2, $3)",
        [(meeting_id, i, sectors.get(i, str(Sector.OTHER))) for i in attendance],
    )
    await add_cases(tx, meeting_id, cases)
    return meeting_id


async def add_cases(tx: asyncpg.Connection, meeting_id: UUID, cases: list[UUID]) -> int:
    """The cases discussed (a case discussed twice is one); how many were new."""
    status = await tx.execute(
        """INSERT INTO meeting_cases (meeting_id, case_id)
           SELECT $1, c FROM unnest($2::uuid[]) AS c ON CONFLICT DO NOTHING""",
        meeting_id,
        cases,
    )
    return int(status.split()[-1])


async def add_decision(
    tx: asyncpg.Connection, meeting_id: UUID, draft: DecisionDraft, description: str
) -> UUID:
    decision_id = uuid4()
    await tx.execute(
        """INSERT INTO meeting_decisions
               (decision_id, meeting_id, kind, case_id, institution_id, support_type, description)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        decision_id,
        meeting_id,
        str(draft.kind),
        draft.case_id,
        draft.institution_id,
        str(draft.support_type) if draft.support_type else None,
        description,
    )
    return decision_id


async def meeting(
    conn: asyncpg.Connection, meeting_id: UUID, *, lock: bool = False
) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        """SELECT t.meeting_id, t.partnership_id, p.gmina, t.held_on, t.agenda, t.minutes,
                  t.version, t.recorded_at
           FROM meetings t JOIN partnerships p USING (partnership_id)
           WHERE t.meeting_id = $1"""
        + (" FOR UPDATE OF t" if lock else ""),
        meeting_id,
    )
    if row is None:
        return None
    attendance = await conn.fetch(
        """SELECT a.institution_id, a.sector, i.name
           FROM meeting_attendance a LEFT JOIN institutions i USING (institution_id)
           WHERE a.meeting_id = $1 ORDER BY i.name, a.institution_id""",
        meeting_id,
    )
    cases = await conn.fetch(
        "SELECT case_id FROM meeting_cases WHERE meeting_id = $1 ORDER BY case_id", meeting_id
    )
    decisions = await conn.fetch(
        """SELECT decision_id, kind, case_id, institution_id, support_type, description
           FROM meeting_decisions WHERE meeting_id = $1 ORDER BY recorded_at, decision_id""",
        meeting_id,
    )
    return {
        **dict(row),
        "attendance": [dict(a) for a in attendance],
        "cases": [c["case_id"] for c in cases],
        "decisions": [dict(d) for d in decisions],
    }


async def meetings_of(conn: asyncpg.Connection, pid: UUID) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT t.meeting_id, t.held_on, t.version,
                  (SELECT count(*) FROM meeting_attendance a
                   WHERE a.meeting_id = t.meeting_id) AS institutions,
                  (SELECT count(*) FROM meeting_cases c WHERE c.meeting_id = t.meeting_id) AS cases,
                  (SELECT count(*) FROM meeting_decisions d
                   WHERE d.meeting_id = t.meeting_id) AS decisions
           FROM meetings t WHERE t.partnership_id = $1
           ORDER BY t.held_on DESC, t.recorded_at DESC""",
        pid,
    )
    return [dict(r) for r in rows]


async def bump(tx: asyncpg.Connection, meeting_id: UUID) -> None:
    await tx.execute("UPDATE meetings SET version = version + 1 WHERE meeting_id = $1", meeting_id)


def held_event(found: dict[str, Any]) -> MeetingHeld:
    """What reporting and others learn of a meeting: ids, sectors, counts."""
    return MeetingHeld(
        meeting_id=found["meeting_id"],
        partnership_id=found["partnership_id"],
        place=terc().gmina(found["gmina"]).place,
        held_on=found["held_on"],
        version=found["version"],
        institutions=sorted(a["institution_id"] for a in found["attendance"]),
        sectors=sorted({Sector(a["sector"]) for a in found["attendance"]}),
        attendance=sorted(
            (
                MeetingAttendance(institution_id=a["institution_id"], sector=a["sector"])
                for a in found["attendance"]
            ),
            key=lambda a: a.institution_id,
        ),
        cases=found["cases"],
        decisions=len(found["decisions"]),
    )


def decision_event(found: dict[str, Any], decision: dict[str, Any]) -> MeetingDecisionRecorded:
    return MeetingDecisionRecorded(
        decision_id=decision["decision_id"],
        meeting_id=found["meeting_id"],
        place=terc().gmina(found["gmina"]).place,
        held_on=found["held_on"],
        kind=decision["kind"],
        case_id=decision["case_id"],
        institution_id=decision["institution_id"],
        support_type=decision["support_type"],
    )


async def decisions_of_case(
    conn: asyncpg.Connection, case_id: UUID, gminas: list[str]
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT d.decision_id, d.kind, d.institution_id, d.support_type, t.meeting_id,
                  t.held_on, p.gmina, i.name AS institution_name
           FROM meeting_decisions d
           JOIN meetings t USING (meeting_id)
           JOIN partnerships p USING (partnership_id)
           LEFT JOIN institutions i ON i.institution_id = d.institution_id
           WHERE d.case_id = $1 AND p.gmina = ANY($2::text[])
           ORDER BY t.held_on, d.recorded_at""",
        case_id,
        gminas,
    )
    return [dict(r) for r in rows]
