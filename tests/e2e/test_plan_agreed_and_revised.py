"""The individual support plan (IPW) through all four services: the diagnosis completed routes
nothing; the plan the family agrees to starts the support (intake's case goes into support,
referrals routes each support, the goal's responsible institution first, a financial benefit to
the gmina's OPS only); a revision cancels what it drops and routes what it adds. The caseworker
follows the whole path from the services that own it; the events carry codes, dates and ids."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from shared.auth import Role
from shared.envelope import parse_envelope
from tests.e2e.conftest import Api
from tests.support import a_child, a_household, a_person

pytestmark = pytest.mark.e2e
GMINA = "1816072"  # Hyżne, rzeszowski, podkarpackie: no other test uses it
GOAL_WORDS = "Pani Marianna wraca do pracy po leczeniu depresji"


def goal(area: str, supports: list[str], **fields: Any) -> dict[str, Any]:
    today = date.today()
    return {
        "area": area,
        "supports": supports,
        "due_on": (today + timedelta(days=180)).isoformat(),
        "review_on": (today + timedelta(days=60)).isoformat(),
        **fields,
    }


async def test_a_plan_agreed_starts_the_support_and_its_revision_changes_it(
    api: Api, outside_subscriber: list[bytes]
) -> None:
    coordinator = api.as_(Role.COORDINATOR, gmina=GMINA)
    caseworker = api.as_(Role.CASEWORKER, gmina=GMINA)
    r = await api.call(
        "POST",
        "referrals",
        "/institutions",
        coordinator,
        json={
            "name": "GOPS Hyżne",
            "sector": "social_assistance",
            "support_types": ["financial_benefit", "family_assistant", "meals"],
            "gminas": [GMINA],
            "ops_gmina": GMINA,
        },
    )
    assert r.status_code == 201, r.text
    ops = str(r.json()["institution_id"])
    await api.join_partnership(GMINA, ops)
    clinic = await api.register_institution(
        GMINA, "Poradnia Hyżne", ["psychologist", "financial_benefit"], sector="health"
    )
    team_member = api.as_(Role.TEAM_MEMBER, gmina=GMINA, institution=clinic)

    r = await api.call(
        "POST",
        "intake",
        "/cases",
        caseworker,
        json=a_household(
            GMINA,
            a_person("Marianna", "Planowa", birth_date="1979-09-30"),
            a_child("Józef", "Planowy", "2012-01-15"),
            reasons=["1", "6"],
            notified_by="health",
        ),
    )
    assert r.status_code == 201, r.text
    case_id = str(r.json()["case_id"])
    r = await api.call("GET", "intake", f"/cases/{case_id}", caseworker, params={"reason": "IPW"})
    mother = r.json()["members"][0]["person_id"]

    did = (await api.diagnosis_of(case_id, coordinator))["diagnosis_id"]
    assessed = {}
    for who, body in (
        (
            team_member,
            {
                "need_area": "mental_health",
                "severity": 2,
                "notes": "Leczenie depresji od 2024 r.",
                "recommendations": [{"support_type": "psychologist", "priority": 1}],
            },
        ),
        (
            coordinator,
            {
                "need_area": "finances",
                "severity": 3,
                "recommendations": [
                    {"support_type": "financial_benefit", "priority": 1},
                    {"support_type": "family_assistant", "priority": 2},
                ],
            },
        ),
    ):
        r = await api.call("POST", "diagnosis", f"/diagnoses/{did}/assessments", who, json=body)
        assert r.status_code == 201, r.text
        assessed[body["need_area"]] = r.json()["recommendations"]
    [psychologist] = assessed["mental_health"]
    benefit, assistant = assessed["finances"]
    r = await api.call("POST", "diagnosis", f"/diagnoses/{did}/complete", coordinator)
    assert r.status_code == 200, r.text

    # The plan: the mother's goal with the clinic responsible; the household's with the clinic
    # named too, but a financial benefit is the OPS's decision alone.
    today = date.today().isoformat()
    plan_body = {
        "agreed_on": today,
        "social_contract_on": today,
        "goals": [
            goal("mental_health", [psychologist], member_id=mother, description=GOAL_WORDS,
                 responsible_institution_id=clinic),
            goal("finances", [benefit, assistant], responsible_institution_id=clinic),
        ],
    }  # fmt: skip
    r = await api.call(
        "POST",
        "diagnosis",
        f"/diagnoses/{did}/plan",
        {**coordinator, "Idempotency-Key": f"plan-{case_id}"},
        json=plan_body,
    )
    assert r.status_code == 201, r.text
    plan = r.json()
    mothers_goal, households_goal = (g["goal_id"] for g in plan["goals"])

    async def referrals_now(count: int) -> Any:
        r = await api.call("GET", "referrals", f"/cases/{case_id}/referrals", caseworker)
        rows = r.json() if r.status_code == 200 else []
        return rows if len(rows) >= count else None

    rows = await api.eventually(lambda: referrals_now(3), what="the plan's three referrals")
    assert {(x["support_type"], x["institution_id"], x["state"]) for x in rows} == {
        ("psychologist", clinic, "assigned"),
        ("financial_benefit", ops, "assigned"),
        ("family_assistant", ops, "assigned"),
    }

    async def in_support() -> Any:
        r = await api.call("GET", "intake", "/cases?status=in_support", caseworker)
        return [c for c in r.json() if c["case_id"] == case_id]

    await api.eventually(in_support, what="intake to put the case into support")

    # The revision: the family assistant is dropped, meals come in (the diagnosis recommends
    # them first); the household goal keeps its identity.
    r = await api.call(
        "POST",
        "diagnosis",
        f"/diagnoses/{did}/revisions",
        coordinator,
        json={"add": [{"support_type": "meals", "need_area": "finances", "priority": 2}]},
    )
    assert r.status_code == 200, r.text
    [meals] = r.json()["added"]
    revision = {
        "revised_on": today,
        "goals": [
            {**plan_body["goals"][0], "goal_id": mothers_goal},
            goal("finances", [benefit, meals], goal_id=households_goal),
        ],
    }
    r = await api.call(
        "POST", "diagnosis", f"/diagnoses/{did}/plan/revisions", coordinator, json=revision
    )
    assert r.status_code == 200, r.text
    assert [v["version"] for v in r.json()["history"]] == [1, 2]

    async def revised() -> Any:
        rows = await referrals_now(4)
        if not rows:
            return None
        states = {(x["support_type"], x["state"], x["cancel_reason"]) for x in rows}
        return (
            states
            if ("family_assistant", "cancelled", "recommendation_dropped") in states
            else None
        )

    states = await api.eventually(revised, what="the revision's effects in referrals")
    assert states == {
        ("psychologist", "assigned", None),
        ("financial_benefit", "assigned", None),
        ("family_assistant", "cancelled", "recommendation_dropped"),
        ("meals", "assigned", None),
    }
    r = await api.call(
        "POST",
        "diagnosis",
        f"/diagnoses/{did}/plan/goals/{mothers_goal}/reviews",
        coordinator,
        json={"reviewed_on": today, "result": "in_progress"},
    )
    assert r.status_code == 201, r.text

    # The caseworker follows the whole path: the diagnosis without its notes, the plan with its
    # history, the referrals; the notes only with a reason, audited in diagnosis.
    r = await api.call("GET", "diagnosis", f"/cases/{case_id}/diagnosis", caseworker)
    assert r.status_code == 200, r.text
    whole = r.json()
    assert {(n["area"], n["severity"]) for n in whole["needs"]} == {
        ("mental_health", 2),
        ("finances", 3),
    }
    assert "Leczenie" not in r.text and all("notes" not in a for a in whole["assessments"])
    assert whole["plan"]["version"] == 2 and whole["plan"]["goals"][0]["member_id"] == mother
    assert whole["plan"]["goals"][0]["last_review"] == "in_progress"
    r = await api.call(
        "GET", "diagnosis", f"/diagnoses/{did}/notes", caseworker, params={"reason": "IPW"}
    )
    assert [n["notes"] for n in r.json()["notes"]] == ["Leczenie depresji od 2024 r."]
    r = await api.call("GET", "diagnosis", "/audit", coordinator, params={"case_id": case_id})
    assert [(e["role"], e["access"]) for e in r.json()] == [("caseworker", "diagnosis_notes")]

    # The public stream: the plan as codes, dates and ids; not a word of the goals.
    async def plan_events() -> Any:
        found = [parse_envelope(b) for b in list(outside_subscriber) if case_id.encode() in b]
        keys = [e.routing_key for e in found if e.routing_key.startswith("plan.")]
        return (
            found
            if {"plan.agreed.v1", "plan.revised.v1", "plan.goal_reviewed.v1"} <= set(keys)
            else None
        )

    found = await api.eventually(plan_events, what="the plan's events outside")
    [revised_event] = [e for e in found if e.routing_key == "plan.revised.v1"]
    assert revised_event.data["removed"] == [assistant]
    raw = b"".join(b for b in outside_subscriber if case_id.encode() in b).decode()
    for personal in ("Marianna", "Planow", "1979-09-30", "Józef", "wraca do pracy", "depresji"):
        assert personal not in raw
