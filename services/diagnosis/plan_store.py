"""Diagnosis's SQL for the individual support plan (IPW): versions, goals, reviews."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from services.diagnosis.plan import Goal, SupportPlan
from shared.codes import GoalResult, NeedArea


async def load(
    conn: asyncpg.Connection, diagnosis_id: UUID, *, lock: bool = False
) -> SupportPlan | None:
    """The plan of a diagnosis as it stands (its latest version), with each goal's last review."""
    row = await conn.fetchrow(
        "SELECT * FROM plans WHERE diagnosis_id = $1" + (" FOR UPDATE" if lock else ""),
        diagnosis_id,
    )
    if row is None:
        return None
    goals = await _goals(conn, row["plan_id"], row["version"])
    reviews = await conn.fetch(
        """SELECT DISTINCT ON (goal_id) goal_id, result FROM goal_reviews
           WHERE plan_id = $1 ORDER BY goal_id, reviewed_on DESC, review_id DESC""",
        row["plan_id"],
    )
    return SupportPlan(
        plan_id=row["plan_id"],
        diagnosis_id=diagnosis_id,
        version=row["version"],
        agreed_on=row["agreed_on"],
        social_contract_on=row["social_contract_on"],
        goals=goals,
        reviews={r["goal_id"]: GoalResult(r["result"]) for r in reviews},
    )


async def _goals(conn: asyncpg.Connection, plan_id: UUID, version: int) -> list[Goal]:
    rows = await conn.fetch(
        "SELECT * FROM plan_goals WHERE plan_id = $1 AND version = $2 ORDER BY position",
        plan_id,
        version,
    )
    return [
        Goal(
            goal_id=r["goal_id"],
            area=NeedArea(r["area"]),
            member_id=r["member_id"],
            responsible_institution_id=r["responsible_institution_id"],
            due_on=r["due_on"],
            review_on=r["review_on"],
            supports=tuple(r["supports"]),
            description=r["description"],
        )
        for r in rows
    ]


async def _save_version(
    tx: asyncpg.Connection, plan: SupportPlan, on_day: date, author: str
) -> None:
    await tx.execute(
        """INSERT INTO plan_versions (plan_id, version, on_day, social_contract_on, author)
           VALUES ($1, $2, $3, $4, $5)""",
        plan.plan_id,
        plan.version,
        on_day,
        plan.social_contract_on,
        author,
    )
    await tx.executemany(
        """INSERT INTO plan_goals (plan_id, version, goal_id, position, area, member_id,
                                   responsible_institution_id, due_on, review_on, supports,
                                   description)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""",
        [
            (
                plan.plan_id,
                plan.version,
                g.goal_id,
                i,
                str(g.area),
                g.member_id,
                g.responsible_institution_id,
                g.due_on,
                g.review_on,
                list(g.supports),
                g.description,
            )
            for i, g in enumerate(plan.goals)
        ],
    )


async def save_agreed(tx: asyncpg.Connection, plan: SupportPlan, author: str) -> None:
    await tx.execute(
        """INSERT INTO plans (plan_id, diagnosis_id, version, agreed_on, social_contract_on)
           VALUES ($1, $2, $3, $4, $5)""",
        plan.plan_id,
        plan.diagnosis_id,
        plan.version,
        plan.agreed_on,
        plan.social_contract_on,
    )
    await _save_version(tx, plan, plan.agreed_on, author)


async def save_revised(
    tx: asyncpg.Connection, plan: SupportPlan, revised_on: date, author: str
) -> None:
    await tx.execute(
        """UPDATE plans SET version = $2, social_contract_on = $3, updated_at = now()
           WHERE plan_id = $1""",
        plan.plan_id,
        plan.version,
        plan.social_contract_on,
    )
    await _save_version(tx, plan, revised_on, author)


async def save_review(
    tx: asyncpg.Connection,
    plan_id: UUID,
    goal_id: UUID,
    result: GoalResult,
    reviewed_on: date,
    author: str,
    note: str = "",
) -> None:
    await tx.execute(
        """INSERT INTO goal_reviews (plan_id, goal_id, reviewed_on, result, author, note)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        plan_id,
        goal_id,
        reviewed_on,
        str(result),
        author,
        note,
    )


async def history(conn: asyncpg.Connection, plan_id: UUID) -> list[dict[str, Any]]:
    """Every version of the plan with its goals, oldest first."""
    versions = await conn.fetch(
        "SELECT * FROM plan_versions WHERE plan_id = $1 ORDER BY version", plan_id
    )
    return [
        {
            "version": v["version"],
            "on_day": v["on_day"],
            "social_contract_on": v["social_contract_on"],
            "author": v["author"],
            "goals": await _goals(conn, plan_id, v["version"]),
        }
        for v in versions
    ]


async def reviews(conn: asyncpg.Connection, plan_id: UUID) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT goal_id, reviewed_on, result, note, author, at FROM goal_reviews
           WHERE plan_id = $1 ORDER BY review_id""",
        plan_id,
    )
    return [dict(r) for r in rows]
