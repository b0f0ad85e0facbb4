"""The simplest individual plan (IPW) a family can agree to, for the demo, the benchmarks and
the end-to-end tests: one goal per need area of the diagnosis, for the household, holding that
area's recommendations, with the OPS responsible."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

from shared.codes import NeedArea
from shared.events import Place, PlanAgreed, PlanGoal, PlannedSupport


def plan_covering(diagnosis: dict[str, Any], agreed_on: date) -> dict[str, Any]:
    """The body of POST /diagnoses/{id}/plan for a diagnosis as GET /diagnoses/{id} answers."""
    by_area: dict[str, list[str]] = {}
    for rec in diagnosis["recommendations"]:
        by_area.setdefault(rec["need_area"], []).append(str(rec["recommendation_id"]))
    return {
        "agreed_on": agreed_on.isoformat(),
        "goals": [
            {
                "area": area,
                "supports": supports,
                "due_on": (agreed_on + timedelta(days=180)).isoformat(),
                "review_on": (agreed_on + timedelta(days=90)).isoformat(),
            }
            for area, supports in sorted(by_area.items())
        ],
    }


def plan_agreed(
    case_id: UUID, place: Place, support_types: list[str], agreed_on: date
) -> PlanAgreed:
    """The same plan as an event, for feeding referrals straight (benchmarks of the event chain):
    one household goal, the OPS responsible, one support per type, the first most urgent."""
    goal = PlanGoal(
        goal_id=uuid4(),
        area=NeedArea.PARENTING,
        member_id=None,
        responsible_institution_id=None,
        due_on=agreed_on + timedelta(days=180),
        review_on=agreed_on + timedelta(days=90),
    )
    return PlanAgreed(
        plan_id=uuid4(),
        diagnosis_id=uuid4(),
        case_id=case_id,
        place=place,
        agreed_on=agreed_on,
        goals=[goal],
        supports=[
            PlannedSupport(
                recommendation_id=uuid4(),
                support_type=support_type,
                need_area=NeedArea.PARENTING,
                priority=min(k + 1, 3),
                goal_id=goal.goal_id,
            )
            for k, support_type in enumerate(support_types)
        ],
    )
