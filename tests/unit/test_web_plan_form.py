"""The plan (IPW) form: goals pre-filled per need area, the API body from what was sent, and an
API error on a support placed at the checkbox it came from."""

from __future__ import annotations

from datetime import date

from starlette.datastructures import FormData

from services.web.forms import from_problem
from services.web.plan_form import defaults, goal_rows, known_fields, plan_body

A, B, C = (f"00000000-0000-0000-0000-00000000000{k}" for k in (1, 2, 3))
DIAGNOSIS = {
    "needs": [{"area": "employment", "severity": 2}, {"area": "housing", "severity": 3}],
    "recommendations": [
        {"recommendation_id": A, "need_area": "employment", "support_type": "x", "priority": 1},
        {"recommendation_id": B, "need_area": "employment", "support_type": "y", "priority": 2},
        {"recommendation_id": C, "need_area": "housing", "support_type": "z", "priority": 3},
    ],
}


def test_one_goal_per_need_area_with_its_supports_all_checked() -> None:
    goals = goal_rows(DIAGNOSIS)
    assert [(g["area"], [r["recommendation_id"] for r in g["supports"]]) for g in goals] == [
        ("employment", [A, B]),
        ("housing", [C]),
    ]
    form = defaults(goals, date(2026, 3, 1))
    assert form["agreed_on"] == "2026-03-01"
    assert form["goals-0-supports"] == [A, B]
    assert form["goals-1-due_on"] == "2026-08-28"
    assert form["goals-1-review_on"] == "2026-05-30"


def test_body_sends_the_checked_supports_the_ops_as_null_and_leaves_empty_dates_out() -> None:
    goals = goal_rows(DIAGNOSIS)
    sent = FormData(
        [
            ("agreed_on", "2026-03-01"),
            ("social_contract_on", ""),
            ("goals-0-supports", B),
            ("goals-0-responsible_institution_id", C),
            ("goals-0-due_on", "2026-09-01"),
            ("goals-0-review_on", "2026-06-01"),
            ("goals-1-responsible_institution_id", ""),
            ("goals-1-due_on", ""),
            ("goals-1-review_on", "2026-06-01"),
        ]
    )
    body, rows = plan_body(sent, goals)
    assert body == {
        "agreed_on": "2026-03-01",
        "goals": [
            {
                "area": "employment",
                "description": "",
                "supports": [B],
                "responsible_institution_id": C,
                "due_on": "2026-09-01",
                "review_on": "2026-06-01",
            },
            {
                "area": "housing",
                "description": "",
                "supports": [],
                "responsible_institution_id": None,
                "review_on": "2026-06-01",
            },
        ],
    }
    problem = {
        "code": "support_in_two_goals",
        "field": "goals[0].supports[0]",
        "detail": "already a support of another goal",
    }
    errors = from_problem(problem, known_fields(goals), rename=rows)
    assert errors.fields == {
        "goals-0-supports-1": "To wsparcie jest już przypisane do innego celu."
    }
