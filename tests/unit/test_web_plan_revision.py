"""The plan (IPW) revision form: its rows from the plan and the diagnosis, the API's body from
what was sent, and each API error placed at the form's own control."""

from __future__ import annotations

from datetime import date

from starlette.datastructures import FormData

from services.web.forms import from_problem
from services.web.plan_revision import (
    revision_body,
    revision_defaults,
    revision_fields,
    revision_rows,
)

R = {
    name: {"recommendation_id": rid, "support_type": t, "need_area": area, "priority": 1}
    for name, rid, t, area in (
        ("counselling", "r1", "vocational_counselling", "employment"),
        ("training", "r2", "training", "employment"),
        ("assistant", "r3", "family_assistant", "parenting"),
        ("psychologist", "r4", "psychologist", "parenting"),
    )
}
PLAN = {
    "social_contract_on": None,
    "goals": [
        {"goal_id": "g1", "area": "employment", "member_id": None, "description": "Praca",
         "supports": [R["counselling"]], "responsible_institution_id": "i1",
         "due_on": "2026-12-01", "review_on": "2026-09-01"},
        {"goal_id": "g2", "area": "parenting", "member_id": "m1", "description": "",
         "supports": [R["assistant"]], "responsible_institution_id": None,
         "due_on": "2026-12-01", "review_on": "2026-09-01"},
    ],
}  # fmt: skip
DIAGNOSIS = {"recommendations": list(R.values()), "needs": [{"area": "employment"}]}


def test_each_goal_offers_its_own_and_its_areas_free_supports_the_new_goal_every_free_one() -> None:
    rows = revision_rows(PLAN, DIAGNOSIS)
    assert [[s["recommendation_id"] for s in row["supports"]] for row in rows] == [
        ["r1", "r2"],
        ["r3", "r4"],
        ["r2", "r4"],
    ]
    form = revision_defaults(PLAN, rows, date(2026, 6, 1))
    assert (form["goals-0-keep"], form["goals-0-supports"]) == ("tak", ["r1"])
    assert form["goals-1-responsible_institution_id"] == ""
    assert "goals-2-keep" not in form and form["goals-2-supports"] == []


def test_a_dropped_goal_is_left_out_a_new_one_added_and_errors_go_to_the_forms_controls() -> None:
    rows = revision_rows(PLAN, DIAGNOSIS)
    sent = FormData(
        [
            ("revised_on", "2026-06-01"),
            ("goals-0-keep", "tak"),
            ("goals-0-supports", "r1"),
            ("goals-0-supports", "r2"),
            ("goals-0-due_on", "2026-12-01"),
            ("goals-0-review_on", "2026-09-01"),
            # goal 1 (parenting) not kept: dropped
            ("goals-2-area", "parenting"),
            ("goals-2-description", "Syn chodzi do szkoły"),
            ("goals-2-supports", "r4"),
            ("goals-2-due_on", "2026-11-01"),
            ("goals-2-review_on", "2026-12-01"),
        ]
    )
    body, rename = revision_body(sent, rows)
    assert body["revised_on"] == "2026-06-01" and "social_contract_on" not in body
    kept, new = body["goals"]
    assert (kept["goal_id"], kept["area"], kept["supports"]) == ("g1", "employment", ["r1", "r2"])
    assert kept["responsible_institution_id"] is None  # not sent: the OPS
    assert "goal_id" not in new and (new["area"], new["supports"]) == ("parenting", ["r4"])
    problem = {
        "code": "review_out_of_range",
        "field": "goals[1].review_on",
        "detail": "the goal is reviewed between the plan's start and its due date",
    }
    errors = from_problem(problem, revision_fields(rows), rename)
    assert errors.fields == {
        "goals-2-review_on": "Przegląd musi przypadać między uzgodnieniem planu a terminem."
    }
    twice = {"code": "support_in_two_goals", "field": "goals[1].supports[0]", "detail": "x"}
    errors = from_problem(twice, revision_fields(rows), rename)
    assert list(errors.fields) == ["goals-2-supports-1"]
