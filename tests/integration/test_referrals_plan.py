"""The individual support plan (IPW) as routing's trigger: the latest version of a plan is what
the case's referrals follow, in any arrival order and however often a version comes; the goal's
responsible institution is preferred; supports only the OPS may decide go to the gmina's OPS and
nowhere else."""

from __future__ import annotations

from uuid import uuid4

import pytest

from shared.envelope import wrap
from shared.events import PlanAgreed, PlanGoal
from tests.integration.conftest import eventually
from tests.integration.referrals_harness import (  # noqa: F401  (fixtures)
    Area,
    Referrals,
    agreed,
    referrals_fixture,
    referrals_process_fixture,
    revised,
)

pytestmark = pytest.mark.integration


async def handled(referrals: Referrals, *events: object) -> None:
    """Publish each event once under one envelope id and wait until referrals handled them."""
    ids = []
    for event in events:
        envelope = wrap(event, region="06", service="diagnosis")  # type: ignore[arg-type]
        await referrals.publish(event, envelope=envelope)  # type: ignore[arg-type]
        ids.append(envelope.id)

    async def done() -> bool:
        count = await referrals.db.fetchval(
            "SELECT count(*) FROM inbox WHERE event_id = ANY($1::uuid[])", ids
        )
        return count == len(ids)

    await eventually(done, what="the plan's versions handled")


async def live(referrals: Referrals, case_id: object) -> dict[str, str]:
    rows = await referrals.referrals_of(case_id)  # type: ignore[arg-type]
    return {
        r["support_type"]: r["state"]
        for r in rows
        if r["state"] in ("assigned", "accepted", "completed", "unassignable")
    }


@pytest.mark.parametrize("order", ["1-2-3", "3-2-1", "2-3-1-3-2"])
async def test_referrals_follow_the_latest_version_of_the_plan_in_any_order(
    referrals: Referrals, order: str
) -> None:
    area = Area()
    await referrals.register(area, ["psychologist", "meals", "tutoring"])
    first = agreed(area, "psychologist", "meals")
    psychologist, meals = first.supports
    # 2 drops the meals and adds tutoring; 3 takes the meals back in and keeps tutoring.
    second = revised(
        first, keep=[psychologist], add=["tutoring"], removed=[meals.recommendation_id]
    )
    tutoring = second.supports[1]
    third = revised(first, keep=[psychologist, tutoring, meals], add=[], removed=[], version=3)
    versions = {"1": first, "2": second, "3": third}
    await handled(referrals, *(versions[v] for v in order.split("-")))

    assert await live(referrals, first.case_id) == {
        "psychologist": "assigned",
        "meals": "assigned",
        "tutoring": "assigned",
    }
    rows = await referrals.referrals_of(first.case_id)
    # Each support has exactly one live referral, however the versions came.
    live_ids = [r["recommendation_id"] for r in rows if r["state"] == "assigned"]
    assert sorted(live_ids, key=str) == sorted(
        (psychologist.recommendation_id, meals.recommendation_id, tutoring.recommendation_id),
        key=str,
    )


async def test_a_revision_cancels_what_it_dropped_and_a_stale_version_changes_nothing(
    referrals: Referrals,
) -> None:
    area = Area()
    institution = await referrals.register(area, ["psychologist", "meals"])
    first = await referrals.agree_plan(area, "psychologist", "meals")
    await referrals.routed(first.case_id, 2)
    psychologist, meals = first.supports
    second = revised(first, keep=[psychologist], add=[], removed=[meals.recommendation_id])
    await handled(referrals, second, first, second)
    [cancelled] = await referrals.event("support.cancelled.v1", case_id=first.case_id)
    assert (cancelled["reason"], cancelled["institution_id"]) == (
        "recommendation_dropped",
        str(institution),
    )
    assert await live(referrals, first.case_id) == {"psychologist": "assigned"}
    assert len(referrals.events("support.assigned.v1", case_id=first.case_id)) == 2


def with_goal(plan: PlanAgreed, **goal: object) -> PlanAgreed:
    [only] = plan.goals
    changed = PlanGoal(**{**only.model_dump(), **goal})
    return plan.model_copy(update={"goals": [changed]})


async def test_the_goals_responsible_institution_is_preferred_when_it_has_room(
    referrals: Referrals,
) -> None:
    area = Area()
    # The partner would be first by the usual rules; the plan names the other one.
    await referrals.register(area, ["psychologist"], partnership=True)
    named = await referrals.register(area, ["psychologist"], capacity=1)
    plan = with_goal(agreed(area, "psychologist"), responsible_institution_id=named)
    await handled(referrals, plan)
    [row] = await referrals.referrals_of(plan.case_id)
    assert row["institution_id"] == named
    # Full now: the next plan naming it goes by the usual rules.
    again = with_goal(agreed(area, "psychologist"), responsible_institution_id=named)
    await handled(referrals, again)
    [other] = await referrals.referrals_of(again.case_id)
    assert other["institution_id"] not in (None, named)


async def test_a_financial_benefit_goes_to_the_gminas_ops_and_never_elsewhere(
    referrals: Referrals,
) -> None:
    area = Area()
    coordinator = referrals.coordinator(area)
    # A big institution offering the benefit too, in the whole powiat, on the PZK, with room ...
    await referrals.register(
        area, ["financial_benefit"], capacity=50, partnership=True, powiats=[area.powiat]
    )
    # ... and the gmina's OPS.
    ops = await referrals.register(area, ["financial_benefit", "meals"], ops_gmina=area.gmina)
    response = await referrals.http.post(
        "/api/v1/institutions",
        headers=coordinator,
        json={
            "name": f"Drugi OPS {uuid4().hex[:6]}",
            "sector": "social_assistance",
            "support_types": ["financial_benefit"],
            "gminas": [area.gmina],
            "ops_gmina": area.gmina,
        },
    )
    assert response.status_code == 409 and response.json()["code"] == "ops_taken", response.text
    response = await referrals.http.post(
        "/api/v1/institutions",
        headers=coordinator,
        json={
            "name": f"Szkoła {uuid4().hex[:6]}",
            "sector": "education",
            "support_types": ["tutoring"],
            "gminas": [area.gmina],
            "ops_gmina": area.gmina,
        },
    )
    assert response.status_code == 422 and response.json()["field"] == "ops_gmina"

    plan = await referrals.agree_plan(area, "financial_benefit")
    [row] = await referrals.routed(plan.case_id, 1)
    assert (row["state"], row["institution_id"]) == ("assigned", ops)
    # The OPS declines: the benefit waits for the OPS, it is not routed to anyone else.
    response = await referrals.http.post(
        f"/api/v1/referrals/{row['referral_id']}/decline",
        headers=referrals.staff(ops),
        json={"reason": "no_capacity"},
    )
    assert response.status_code == 200, response.text
    [_, waiting] = await referrals.routed(plan.case_id, 2)
    assert (waiting["state"], waiting["institution_id"]) == ("unassignable", None)

    # A gmina whose OPS is not registered: the benefit waits, an unmet need.
    elsewhere = await referrals.agree_plan(area, "financial_benefit", gmina=area.gminas[1])
    [row] = await referrals.routed(elsewhere.case_id, 1)
    assert row["state"] == "unassignable"
    [unmet] = await referrals.event("support.unassignable.v1", case_id=elsewhere.case_id)
    assert unmet["support_type"] == "financial_benefit"
