"""Intake's SQL of the follow-ups after closing and of the group activities' participants."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from services.intake.domain import CaseStatus
from services.intake.evaluation import ClosedCase, KnownActivity
from shared.codes import ActivityType
from shared.events import CaseFollowUpRecorded
from shared.teryt import terc


def _closed_case(row: asyncpg.Record) -> ClosedCase:
    return ClosedCase(
        case_id=row["case_id"],
        place=terc().gmina(row["gmina"]).place,
        status=CaseStatus(row["status"]),
        round=row["round"],
        closed_on=row["closed_on"],
    )


async def closed_case(tx: asyncpg.Connection, case_id: UUID, *, lock: bool) -> ClosedCase | None:
    row = await tx.fetchrow(
        "SELECT case_id, gmina, status, round, closed_on FROM cases WHERE case_id = $1"
        + (" FOR UPDATE" if lock else ""),
        case_id,
    )
    return None if row is None else _closed_case(row)


async def save_follow_up(tx: asyncpg.Connection, event: CaseFollowUpRecorded, by: str) -> None:
    await tx.execute(
        """INSERT INTO case_follow_ups (case_id, round, months, closed_on, recorded_on,
                                        sustained, roles, recorded_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (case_id, round, months) DO UPDATE SET
               closed_on = EXCLUDED.closed_on, recorded_on = EXCLUDED.recorded_on,
               sustained = EXCLUDED.sustained, roles = EXCLUDED.roles,
               recorded_by = EXCLUDED.recorded_by, recorded_at = now()""",
        event.case_id,
        event.round,
        event.months,
        event.closed_on,
        event.recorded_on,
        event.sustained,
        [str(r) for r in event.roles],
        by,
    )


async def follow_ups_of(conn: asyncpg.Connection, case_id: UUID) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT case_id, round, months, closed_on, recorded_on, sustained, roles
           FROM case_follow_ups WHERE case_id = $1 ORDER BY round, months""",
        case_id,
    )
    return [{**dict(r), "roles": list(r["roles"])} for r in rows]


async def closed_cases_due(
    conn: asyncpg.Connection, gmina: str, assigned_to: str | None, today: date
) -> list[tuple[ClosedCase, frozenset[int], str | None]]:
    """The gmina's closed cases (or only those assigned to `assigned_to`) whose follow-ups can
    still be due (closed within the last year), each with the months already recorded for its
    last closing and its responsible caseworker."""
    rows = await conn.fetch(
        """SELECT c.case_id, c.gmina, c.status, c.round, c.closed_on, c.assigned_to,
                  coalesce(array_agg(f.months) FILTER (WHERE f.months IS NOT NULL), '{}')
                      AS recorded
           FROM cases c
           LEFT JOIN case_follow_ups f ON f.case_id = c.case_id AND f.round = c.round
           WHERE c.gmina = $1 AND c.status = 'closed' AND c.closed_on >= $3
             AND c.anonymised_at IS NULL
             AND ($2::text IS NULL OR c.assigned_to = $2)
           GROUP BY c.case_id""",
        gmina,
        assigned_to,
        today - timedelta(days=366),
    )
    return [(_closed_case(r), frozenset(r["recorded"]), r["assigned_to"]) for r in rows]


# --- group activities ------------------------------------------------------------------------


async def know_activity(tx: asyncpg.Connection, activity: KnownActivity) -> None:
    await tx.execute(
        """INSERT INTO known_activities (activity_id, activity_type, gmina) VALUES ($1, $2, $3)
           ON CONFLICT (activity_id) DO UPDATE SET activity_type = EXCLUDED.activity_type,
               gmina = EXCLUDED.gmina""",
        activity.activity_id,
        str(activity.activity_type),
        activity.gmina,
    )


async def activity(
    conn: asyncpg.Connection, activity_id: UUID, *, lock: bool = False
) -> KnownActivity | None:
    row = await conn.fetchrow(
        "SELECT activity_id, activity_type, gmina FROM known_activities WHERE activity_id = $1"
        + (" FOR SHARE" if lock else ""),
        activity_id,
    )
    if row is None:
        return None
    return KnownActivity(row["activity_id"], ActivityType(row["activity_type"]), row["gmina"])


async def participants_of_case(
    conn: asyncpg.Connection, case_id: UUID, activity_id: UUID
) -> set[UUID]:
    rows = await conn.fetch(
        "SELECT person_id FROM activity_participants WHERE case_id = $1 AND activity_id = $2",
        case_id,
        activity_id,
    )
    return {r["person_id"] for r in rows}


async def set_participants(
    tx: asyncpg.Connection,
    case_id: UUID,
    activity_id: UUID,
    persons: set[UUID],
    day: date,
    by: str,
) -> None:
    """The case's members in the activity are exactly `persons` from now on."""
    await tx.execute(
        """DELETE FROM activity_participants
           WHERE case_id = $1 AND activity_id = $2 AND NOT person_id = ANY($3::uuid[])""",
        case_id,
        activity_id,
        list(persons),
    )
    await tx.executemany(
        """INSERT INTO activity_participants (activity_id, person_id, case_id, joined_on, added_by)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
        [(activity_id, p, case_id, day, by) for p in sorted(persons, key=str)],
    )


async def in_type(
    conn: asyncpg.Connection, case_id: UUID, activity_type: ActivityType
) -> set[UUID]:
    """The case's members in any activity of the type."""
    rows = await conn.fetch(
        """SELECT DISTINCT p.person_id FROM activity_participants p
           JOIN known_activities a USING (activity_id)
           WHERE p.case_id = $1 AND a.activity_type = $2""",
        case_id,
        str(activity_type),
    )
    return {r["person_id"] for r in rows}


async def participants(conn: asyncpg.Connection, activity_id: UUID) -> list[dict[str, Any]]:
    """Per case, its members taking part (ids only)."""
    rows = await conn.fetch(
        """SELECT case_id, array_agg(person_id ORDER BY joined_on, person_id) AS person_ids
           FROM activity_participants WHERE activity_id = $1
           GROUP BY case_id ORDER BY case_id""",
        activity_id,
    )
    return [{"case_id": r["case_id"], "person_ids": list(r["person_ids"])} for r in rows]
