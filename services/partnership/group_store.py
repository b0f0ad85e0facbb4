"""The SQL of the group activities and of the members' survey."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from services.partnership.activities import Activity
from services.partnership.surveys import SurveyRound
from shared.codes import ActivityType, SurveyQuestion
from shared.events import ActivitySessionHeld

# --- group activities --------------------------------------------------------------------------


async def add_activity(tx: asyncpg.Connection, activity: Activity, by: str) -> None:
    await tx.execute(
        """INSERT INTO activities (activity_id, gmina, activity_type, title, started_on,
                                   created_by)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        activity.activity_id,
        activity.gmina,
        str(activity.activity_type),
        activity.title,
        activity.started_on,
        by,
    )


def _activity(row: asyncpg.Record) -> Activity:
    return Activity(
        row["activity_id"],
        row["gmina"],
        ActivityType(row["activity_type"]),
        row["title"],
        row["started_on"],
        row["ended_on"],
    )


async def activity(conn: asyncpg.Connection, activity_id: UUID) -> Activity | None:
    row = await conn.fetchrow("SELECT * FROM activities WHERE activity_id = $1", activity_id)
    return None if row is None else _activity(row)


async def add_session(tx: asyncpg.Connection, session: ActivitySessionHeld) -> None:
    await tx.execute(
        """INSERT INTO activity_sessions (session_id, activity_id, held_on, minutes)
           VALUES ($1, $2, $3, $4)""",
        session.session_id,
        session.activity_id,
        session.held_on,
        session.minutes,
    )


async def activities_of(conn: asyncpg.Connection, gmina: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT a.activity_id, a.gmina, a.activity_type, a.title, a.started_on, a.ended_on,
                  count(s.session_id) AS sessions, coalesce(sum(s.minutes), 0) AS minutes
           FROM activities a LEFT JOIN activity_sessions s USING (activity_id)
           WHERE a.gmina = $1 GROUP BY a.activity_id
           ORDER BY a.started_on DESC, a.activity_id""",
        gmina,
    )
    return [dict(r) for r in rows]


async def sessions_of(conn: asyncpg.Connection, activity_id: UUID) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT session_id, held_on, minutes FROM activity_sessions WHERE activity_id = $1
           ORDER BY held_on, session_id""",
        activity_id,
    )
    return [dict(r) for r in rows]


# --- the members' survey -----------------------------------------------------------------------


def _round(row: asyncpg.Record) -> SurveyRound:
    return SurveyRound(
        row["round_id"], row["gmina"], row["opened_on"], row["invited"], row["closed_on"]
    )


async def open_round_of(conn: asyncpg.Connection, gmina: str) -> SurveyRound | None:
    row = await conn.fetchrow(
        "SELECT * FROM survey_rounds WHERE gmina = $1 AND closed_on IS NULL", gmina
    )
    return None if row is None else _round(row)


async def survey_round(
    conn: asyncpg.Connection, round_id: UUID, *, lock: bool = False
) -> SurveyRound | None:
    row = await conn.fetchrow(
        "SELECT * FROM survey_rounds WHERE round_id = $1" + (" FOR UPDATE" if lock else ""),
        round_id,
    )
    return None if row is None else _round(row)


async def save_round(tx: asyncpg.Connection, r: SurveyRound) -> None:
    await tx.execute(
        """INSERT INTO survey_rounds (round_id, gmina, opened_on, invited, closed_on)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (round_id) DO UPDATE SET closed_on = EXCLUDED.closed_on""",
        r.round_id,
        r.gmina,
        r.opened_on,
        r.invited,
        r.closed_on,
    )


async def representatives_now(conn: asyncpg.Connection, gmina: str, day: date) -> int:
    """The representatives of the gmina's PZK on the day: whom a round asks."""
    return int(
        await conn.fetchval(
            """SELECT count(*) FROM representatives r JOIN partnerships p USING (partnership_id)
               WHERE p.gmina = $1 AND r.since <= $2 AND (r.until IS NULL OR r.until >= $2)""",
            gmina,
            day,
        )
    )


async def is_member(conn: asyncpg.Connection, gmina: str, institution: UUID) -> bool:
    found = await conn.fetchval(
        """SELECT 1 FROM memberships m JOIN partnerships p USING (partnership_id)
           WHERE p.gmina = $1 AND m.institution_id = $2 AND m.left_on IS NULL""",
        gmina,
        institution,
    )
    return found is not None


def respondent_key(round_id: UUID, subject: str) -> str:
    """Who answered, as the round's own hash of the respondent: the same person gets another
    key in every round, and the key names no one."""
    return hashlib.sha256(round_id.bytes + subject.encode()).hexdigest()


async def record_answer(
    tx: asyncpg.Connection, round_id: UUID, subject: str, answers: Mapping[SurveyQuestion, int]
) -> bool:
    """Mark the respondent as having answered and add the answers to the counts, in one
    transaction; False (nothing added) when they had answered already."""
    added = await tx.fetchval(
        """INSERT INTO survey_respondents (round_id, respondent) VALUES ($1, $2)
           ON CONFLICT DO NOTHING RETURNING true""",
        round_id,
        respondent_key(round_id, subject),
    )
    if not added:
        return False
    await tx.executemany(
        """INSERT INTO survey_answer_counts AS c (round_id, question, answer, n)
           VALUES ($1, $2, $3, 1)
           ON CONFLICT (round_id, question, answer) DO UPDATE SET n = c.n + 1""",
        [(round_id, str(q), v) for q, v in sorted(answers.items())],
    )
    return True


async def respondents(conn: asyncpg.Connection, round_id: UUID) -> int:
    return int(
        await conn.fetchval("SELECT count(*) FROM survey_respondents WHERE round_id = $1", round_id)
    )


async def answer_counts(
    conn: asyncpg.Connection, round_id: UUID
) -> dict[tuple[SurveyQuestion, int], int]:
    rows = await conn.fetch(
        "SELECT question, answer, n FROM survey_answer_counts WHERE round_id = $1", round_id
    )
    return {(SurveyQuestion(r["question"]), r["answer"]): r["n"] for r in rows}


async def has_answered(conn: asyncpg.Connection, round_id: UUID, subject: str) -> bool:
    found = await conn.fetchval(
        "SELECT 1 FROM survey_respondents WHERE round_id = $1 AND respondent = $2",
        round_id,
        respondent_key(round_id, subject),
    )
    return found is not None


async def rounds_of(conn: asyncpg.Connection, gmina: str) -> list[SurveyRound]:
    rows = await conn.fetch(
        "SELECT * FROM survey_rounds WHERE gmina = $1 ORDER BY opened_on DESC, round_id", gmina
    )
    return [_round(r) for r in rows]
