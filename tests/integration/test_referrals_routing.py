"""Routing of a completed diagnosis on the real broker and database: area, capacity, PZK
preference, load; waiting recommendations assigned when room appears; redelivery routes once."""

from __future__ import annotations

import pytest

from shared.envelope import wrap
from tests.integration.referrals_harness import (  # noqa: F401  (fixtures)
    Area,
    Referrals,
    agreed,
    referrals_fixture,
    referrals_process_fixture,
    revised,
)

pytestmark = pytest.mark.integration


async def test_institution_serving_the_gmina_is_preferred_to_one_serving_its_powiat(
    referrals: Referrals,
) -> None:
    area = Area()
    elsewhere = Area()
    await referrals.register(elsewhere, ["psychologist"])  # another powiat: never chosen
    county = await referrals.register(
        area, ["psychologist"], gminas=[area.gminas[1]], powiats=[area.powiat]
    )
    local = await referrals.register(area, ["psychologist"])

    first = await referrals.agree_plan(area, "psychologist")
    [referral] = await referrals.routed(first.case_id, 1)
    assert referral["institution_id"] == local
    assert referral["state"] == "assigned"
    [assigned] = await referrals.event("support.assigned.v1", case_id=first.case_id)
    assert assigned["institution_id"] == str(local)
    assert assigned["sector"] == "social_assistance"
    assert assigned["attempt"] == 1

    # In a gmina the local institution does not serve, the powiat's institution takes it.
    second = await referrals.agree_plan(area, "psychologist", gmina=area.gminas[2])
    [referral] = await referrals.routed(second.case_id, 1)
    assert referral["institution_id"] == county


async def test_partnership_member_is_preferred_then_the_least_loaded(
    referrals: Referrals,
) -> None:
    area = Area()
    outsider = await referrals.register(area, ["family_assistant"], capacity=5)
    member = await referrals.register(area, ["family_assistant"], capacity=5, partnership=True)

    first = await referrals.agree_plan(area, "family_assistant")
    [referral] = await referrals.routed(first.case_id, 1)
    assert referral["institution_id"] == member

    # Two non-members with equal standing: the load decides, so two cases go to both.
    area2 = Area()
    a = await referrals.register(area2, ["tutoring"], capacity=4)
    b = await referrals.register(area2, ["tutoring"], capacity=4)
    chosen = []
    for _ in range(2):
        case = await referrals.agree_plan(area2, "tutoring")
        [referral] = await referrals.routed(case.case_id, 1)
        chosen.append(referral["institution_id"])
    assert sorted(chosen, key=str) == sorted([a, b], key=str)
    assert outsider not in chosen


async def test_full_institution_is_skipped_and_capacity_is_per_support_type(
    referrals: Referrals,
) -> None:
    area = Area()
    small = await referrals.register(
        area,
        ["psychologist", "legal_advice"],
        capacity=5,
        capacity_by_type={"psychologist": 1},
        partnership=True,
    )
    backup = await referrals.register(area, ["psychologist"], capacity=5)

    first = await referrals.agree_plan(area, "psychologist", "legal_advice")
    rows = {r["support_type"]: r for r in await referrals.routed(first.case_id, 2)}
    assert rows["psychologist"]["institution_id"] == small
    assert rows["legal_advice"]["institution_id"] == small

    # Its one psychologist place is taken; legal advice still has room (capacity 5).
    second = await referrals.agree_plan(area, "psychologist", "legal_advice")
    rows = {r["support_type"]: r for r in await referrals.routed(second.case_id, 2)}
    assert rows["psychologist"]["institution_id"] == backup
    assert rows["legal_advice"]["institution_id"] == small


async def test_unassignable_recommendation_is_assigned_when_an_institution_registers(
    referrals: Referrals,
) -> None:
    area = Area()
    case = await referrals.agree_plan(area, "speech_therapist")
    [waiting] = await referrals.routed(case.case_id, 1)
    assert waiting["state"] == "unassignable"
    [unassignable] = await referrals.event("support.unassignable.v1", case_id=case.case_id)
    assert unassignable["attempts"] == 0
    assert unassignable["recommendation_id"] == str(case.supports[0].recommendation_id)

    institution = await referrals.register(area, ["speech_therapist"])
    [assigned] = await referrals.event("support.assigned.v1", case_id=case.case_id)
    assert assigned["institution_id"] == str(institution)
    assert assigned["referral_id"] == str(waiting["referral_id"])
    [row] = await referrals.referrals_of(case.case_id)
    assert (row["state"], row["institution_id"]) == ("assigned", institution)


async def test_unassignable_recommendation_is_assigned_when_capacity_is_freed_or_raised(
    referrals: Referrals,
) -> None:
    area = Area()
    institution = await referrals.register(area, ["meals"], capacity=1)
    first = await referrals.agree_plan(area, "meals")
    [taken] = await referrals.routed(first.case_id, 1)
    second = await referrals.agree_plan(area, "meals")
    [waiting] = await referrals.routed(second.case_id, 1)
    third = await referrals.agree_plan(area, "meals")
    await referrals.routed(third.case_id, 1)
    assert waiting["state"] == "unassignable"

    staff = referrals.staff(institution)
    url = f"/api/v1/referrals/{taken['referral_id']}"
    assert (await referrals.http.post(f"{url}/accept", headers=staff)).status_code == 200
    response = await referrals.http.post(
        f"{url}/complete", headers=staff, json={"outcome": "achieved"}
    )
    assert response.status_code == 200, response.text
    [assigned] = await referrals.event("support.assigned.v1", case_id=second.case_id)
    assert assigned["institution_id"] == str(institution)
    [row] = await referrals.referrals_of(third.case_id)
    assert row["state"] == "unassignable"  # one place freed, one recommendation served

    response = await referrals.http.patch(
        f"/api/v1/institutions/{institution}",
        headers=referrals.coordinator(area),
        json={"capacity": 2},
    )
    assert response.status_code == 200, response.text
    await referrals.event("support.assigned.v1", case_id=third.case_id)
    await referrals.event("institution.updated.v1", institution_id=institution)


async def test_redelivered_diagnosis_routes_each_recommendation_once(
    referrals: Referrals,
) -> None:
    area = Area()
    await referrals.register(area, ["training", "vocational_counselling"])
    event = await referrals.agree_plan(area, "training")
    envelope = wrap(event, region="06", service="diagnosis")
    await referrals.publish(event, envelope=envelope)
    await referrals.publish(event, envelope=envelope)
    # the same diagnosis again under a new id (a replay): known recommendations are skipped
    await referrals.publish(event)
    marker = await referrals.agree_plan(area, "vocational_counselling")
    await referrals.routed(marker.case_id, 1)
    await referrals.event("support.assigned.v1", case_id=marker.case_id)

    assert len(await referrals.referrals_of(event.case_id)) == 1
    assert len(referrals.events("support.assigned.v1", case_id=event.case_id)) == 1


async def test_revision_arriving_before_its_diagnosis_is_routed_and_not_doubled(
    referrals: Referrals,
) -> None:
    area = Area()
    await referrals.register(area, ["psychologist", "meals", "tutoring"])
    first = agreed(area, "psychologist", "meals")
    psychologist, meals = first.supports
    later = revised(first, keep=[psychologist], add=["tutoring"], removed=[meals.recommendation_id])
    await referrals.publish(later)
    await referrals.routed(first.case_id, 2)
    await referrals.publish(first)  # the completion, delivered late
    marker = await referrals.agree_plan(area, "meals")
    await referrals.routed(marker.case_id, 1)
    rows = {r["support_type"]: r["state"] for r in await referrals.referrals_of(first.case_id)}
    assert rows == {"psychologist": "assigned", "tutoring": "assigned"}


async def test_deadline_watch_assigns_waiting_recommendations_when_room_appears_silently(
    referrals: Referrals,
) -> None:
    """The watch is the backstop for room that appeared without a transition announcing it
    (here: capacity changed in the database by an operator)."""
    area = Area()
    institution = await referrals.register(area, ["rehabilitation"], capacity=0)
    case = await referrals.agree_plan(area, "rehabilitation")
    [waiting] = await referrals.routed(case.case_id, 1)
    assert waiting["state"] == "unassignable"
    await referrals.db.execute(
        "UPDATE institutions SET capacity = 1 WHERE institution_id = $1", institution
    )
    [assigned] = await referrals.event("support.assigned.v1", case_id=case.case_id)
    assert assigned["institution_id"] == str(institution)


async def test_an_institution_serving_only_its_powiat_takes_every_gmina_of_it_and_no_other(
    referrals: Referrals,
) -> None:
    area = Area()
    neighbour = Area()  # the next powiat, mostly of the same region
    pcpr = await referrals.register(area, ["crisis_intervention"], gminas=[], powiats=[area.powiat])
    for gmina in area.gminas[:3]:
        case = await referrals.agree_plan(area, "crisis_intervention", gmina=gmina)
        [row] = await referrals.routed(case.case_id, 1)
        assert (row["state"], row["institution_id"], row["gmina"]) == ("assigned", pcpr, gmina)

    # A gmina of another powiat is not the PCPR's: nobody there offers the support.
    case = await referrals.agree_plan(neighbour, "crisis_intervention")
    [row] = await referrals.routed(case.case_id, 1)
    assert (row["state"], row["institution_id"]) == ("unassignable", None)
