"""The closed loop over HTTP on the running service: accept, decline and re-route, complete,
revision and closure, deactivation, another institution's referral, and bad input."""

from __future__ import annotations

from datetime import date, datetime
from uuid import uuid4

import pytest

from services.referrals.domain import EXPECTED_DURATION
from shared.auth import Role
from shared.codes import SupportType
from shared.envelope import wrap
from shared.events import CaseClosed, CaseReopened
from tests.integration.referrals_harness import (  # noqa: F401  (fixtures)
    Area,
    Referrals,
    referrals_fixture,
    referrals_process_fixture,
    revised,
)

pytestmark = pytest.mark.integration


async def test_accepted_referral_is_completed_with_its_outcome(referrals: Referrals) -> None:
    area = Area()
    institution = await referrals.register(area, ["family_assistant"])
    case = await referrals.agree_plan(area, "family_assistant")
    [referral] = await referrals.routed(case.case_id, 1)
    staff = referrals.staff(institution)
    url = f"/api/v1/referrals/{referral['referral_id']}"

    inbox = await referrals.http.get(
        "/api/v1/referrals", headers=staff, params={"state": "assigned"}
    )
    assert [r["referral_id"] for r in inbox.json()] == [str(referral["referral_id"])]

    response = await referrals.http.post(f"{url}/accept", headers=staff)
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "accepted"
    [accepted] = await referrals.event("referral.accepted.v1", case_id=case.case_id)
    assert accepted["institution_id"] == str(institution)
    [row] = await referrals.referrals_of(case.case_id)
    # the completion deadline is the support's expected duration from acceptance
    assert datetime.fromisoformat(accepted["complete_by"]) == row["complete_by"]
    assert (
        row["complete_by"] - row["accepted_at"] == EXPECTED_DURATION[SupportType.FAMILY_ASSISTANT]
    )

    response = await referrals.http.post(
        f"{url}/complete", headers=staff, json={"outcome": "partly"}
    )
    assert response.status_code == 200, response.text
    assert (response.json()["state"], response.json()["outcome"]) == ("completed", "partly")
    [done] = await referrals.event("support.completed.v1", case_id=case.case_id)
    assert (done["outcome"], done["sector"]) == ("partly", "social_assistance")


async def test_declined_referral_is_routed_to_the_next_institution_then_unassignable(
    referrals: Referrals,
) -> None:
    area = Area()
    first = await referrals.register(area, ["psychologist"], partnership=True)
    second = await referrals.register(area, ["psychologist"])
    case = await referrals.agree_plan(area, "psychologist")
    [referral] = await referrals.routed(case.case_id, 1)
    assert referral["institution_id"] == first

    response = await referrals.http.post(
        f"/api/v1/referrals/{referral['referral_id']}/decline",
        headers=referrals.staff(first),
        json={"reason": "no_capacity"},
    )
    assert response.status_code == 200, response.text
    [declined] = await referrals.event("referral.declined.v1", case_id=case.case_id)
    assert (declined["reason"], declined["attempt"]) == ("no_capacity", 1)
    [_, again] = await referrals.event("support.assigned.v1", 2, case_id=case.case_id)
    assert (again["institution_id"], again["attempt"]) == (str(second), 2)

    rows = await referrals.referrals_of(case.case_id)
    response = await referrals.http.post(
        f"/api/v1/referrals/{rows[1]['referral_id']}/decline",
        headers=referrals.staff(second),
        json={"reason": "not_in_scope"},
    )
    assert response.status_code == 200, response.text
    [unassignable] = await referrals.event("support.unassignable.v1", case_id=case.case_id)
    assert unassignable["attempts"] == 2
    states = [r["state"] for r in await referrals.referrals_of(case.case_id)]
    assert states == ["declined", "declined", "unassignable"]

    # A place appearing later does not send it back to those who declined it.
    response = await referrals.http.patch(
        f"/api/v1/institutions/{first}",
        headers=referrals.coordinator(area),
        json={"capacity": 20},
    )
    assert response.status_code == 200
    third = await referrals.register(area, ["psychologist"])
    *_, last = await referrals.event("support.assigned.v1", 3, case_id=case.case_id)
    assert (last["institution_id"], last["attempt"]) == (str(third), 3)


async def test_another_institutions_referral_is_not_found_and_its_inbox_forbidden(
    referrals: Referrals,
) -> None:
    area = Area()
    owner = await referrals.register(area, ["legal_advice"])
    stranger = await referrals.register(Area(), ["legal_advice"])
    case = await referrals.agree_plan(area, "legal_advice")
    [referral] = await referrals.routed(case.case_id, 1)
    url = f"/api/v1/referrals/{referral['referral_id']}"
    other = referrals.staff(stranger)

    for method, path, body in (
        ("GET", "", None),
        ("POST", "/accept", None),
        ("POST", "/decline", {"reason": "other"}),
    ):
        response = await referrals.http.request(method, url + path, headers=other, json=body)
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "referral_not_found"
    response = await referrals.http.get(
        "/api/v1/referrals", headers=other, params={"institution": str(owner)}
    )
    assert response.status_code == 403
    mine = await referrals.http.get("/api/v1/referrals", headers=other)
    assert all(r["institution_id"] == str(stranger) for r in mine.json())
    [row] = await referrals.referrals_of(case.case_id)
    assert row["state"] == "assigned"


async def test_illegal_transition_is_a_conflict_and_changes_nothing(referrals: Referrals) -> None:
    area = Area()
    institution = await referrals.register(area, ["tutoring"])
    case = await referrals.agree_plan(area, "tutoring")
    [referral] = await referrals.routed(case.case_id, 1)
    staff = referrals.staff(institution)
    url = f"/api/v1/referrals/{referral['referral_id']}"

    response = await referrals.http.post(
        f"{url}/complete", headers=staff, json={"outcome": "achieved"}
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "illegal_transition"
    assert (await referrals.http.post(f"{url}/accept", headers=staff)).status_code == 200
    response = await referrals.http.post(f"{url}/decline", headers=staff, json={"reason": "other"})
    assert response.status_code == 409
    [row] = await referrals.referrals_of(case.case_id)
    assert (row["state"], row["decline_reason"]) == ("accepted", None)


async def test_bad_input_gets_a_problem_naming_the_field_and_changes_nothing(
    referrals: Referrals,
) -> None:
    area = Area()
    coordinator = referrals.coordinator(area)
    institution = await referrals.register(area, ["meals"])
    case = await referrals.agree_plan(area, "meals")
    [referral] = await referrals.routed(case.case_id, 1)
    staff = referrals.staff(institution)
    before = len((await referrals.http.get("/api/v1/institutions", headers=coordinator)).json())
    valid = {"name": "Klub", "sector": "ngo", "support_types": ["meals"], "gminas": [area.gmina]}

    cases = [
        (
            "POST",
            "/api/v1/institutions",
            {**valid, "support_types": ["massage"]},
            422,
            "support_types[0]",
        ),
        ("POST", "/api/v1/institutions", {**valid, "gminas": ["0000000"]}, 422, "gminas[0]"),
        ("POST", "/api/v1/institutions", {**valid, "powiats": ["9999"]}, 422, "powiats[0]"),
        (
            "POST",
            "/api/v1/institutions",
            {**valid, "capacity_by_type": {"tutoring": 2}},
            422,
            "capacity_by_type.tutoring",
        ),
        ("POST", "/api/v1/institutions", {**valid, "capacity": -1}, 422, "capacity"),
        ("PATCH", f"/api/v1/institutions/{uuid4()}", {"capacity": 3}, 404, None),
        ("PATCH", f"/api/v1/institutions/{institution}", {"sector": "bank"}, 422, "sector"),
        ("PATCH", f"/api/v1/institutions/{institution}", {"capacity": None}, 422, "capacity"),
    ]
    for method, path, body, status, field in cases:
        response = await referrals.http.request(method, path, headers=coordinator, json=body)
        assert response.status_code == status, (path, body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json().get("field") == field, response.json()

    url = f"/api/v1/referrals/{referral['referral_id']}"
    for path, body, status, field in (
        ("/decline", {"reason": "bored"}, 422, "reason"),
        ("/decline", {}, 422, "reason"),
        ("/complete", {"outcome": "great"}, 422, "outcome"),
    ):
        response = await referrals.http.post(url + path, headers=staff, json=body)
        assert response.status_code == status, response.text
        assert response.json()["field"] == field
    response = await referrals.http.post(f"/api/v1/referrals/{uuid4()}/accept", headers=staff)
    assert response.status_code == 404
    response = await referrals.http.get(
        "/api/v1/referrals", headers=staff, params={"state": "lost"}
    )
    assert (response.status_code, response.json()["field"]) == (422, "state")
    response = await referrals.http.post(
        f"{url}/accept", headers=referrals.as_(Role.COORDINATOR, powiat=area.powiat)
    )
    assert response.status_code == 403

    after = (await referrals.http.get("/api/v1/institutions", headers=coordinator)).json()
    assert len(after) == before
    assert next(i for i in after if i["institution_id"] == str(institution))["capacity"] == 10
    [row] = await referrals.referrals_of(case.case_id)
    assert row["state"] == "assigned"


async def test_revision_routes_new_recommendations_and_cancels_dropped_ones(
    referrals: Referrals,
) -> None:
    area = Area()
    institution = await referrals.register(area, ["psychologist", "meals", "tutoring"])
    first = await referrals.agree_plan(area, "psychologist", "meals")
    await referrals.routed(first.case_id, 2)
    psychologist, meals = first.supports

    await referrals.publish(
        revised(first, keep=[psychologist], add=["tutoring"], removed=[meals.recommendation_id])
    )
    [cancelled] = await referrals.event("support.cancelled.v1", case_id=first.case_id)
    assert (cancelled["reason"], cancelled["institution_id"]) == (
        "recommendation_dropped",
        str(institution),
    )
    await referrals.event("support.assigned.v1", 3, case_id=first.case_id)
    rows = {r["support_type"]: r["state"] for r in await referrals.referrals_of(first.case_id)}
    assert rows == {"psychologist": "assigned", "meals": "cancelled", "tutoring": "assigned"}

    # A late or replayed completion does not bring the dropped recommendation back.
    await referrals.publish(first)
    marker = await referrals.agree_plan(area, "meals")
    await referrals.routed(marker.case_id, 1)
    assert len(await referrals.referrals_of(first.case_id)) == 3


async def test_case_closure_cancels_open_and_waiting_referrals(referrals: Referrals) -> None:
    area = Area()
    institution = await referrals.register(area, ["crisis_intervention"], capacity=1)
    case = await referrals.agree_plan(area, "crisis_intervention", "housing_help")
    rows = await referrals.routed(case.case_id, 2)
    assert {r["state"] for r in rows} == {"assigned", "unassignable"}
    waiting_elsewhere = await referrals.agree_plan(area, "crisis_intervention")
    [other] = await referrals.routed(waiting_elsewhere.case_id, 1)
    assert other["state"] == "unassignable"

    await referrals.close_case(area, case.case_id)
    [cancelled] = await referrals.event("support.cancelled.v1", case_id=case.case_id)
    assert (cancelled["reason"], cancelled["support_type"]) == (
        "case_closed",
        "crisis_intervention",
    )
    states = {r["state"] for r in await referrals.referrals_of(case.case_id)}
    assert states == {"cancelled"}
    # the place it held goes to the family that was waiting
    [assigned] = await referrals.event("support.assigned.v1", case_id=waiting_elsewhere.case_id)
    assert assigned["institution_id"] == str(institution)


async def test_diagnosis_arriving_after_the_case_closed_routes_nothing(
    referrals: Referrals,
) -> None:
    area = Area()
    await referrals.register(area, ["equipment"])
    late = uuid4()
    await referrals.close_case(area, late)
    marker = await referrals.agree_plan(area, "equipment")
    await referrals.routed(marker.case_id, 1)  # the closure, published before, is handled
    await referrals.agree_plan(area, "equipment", case_id=late)
    second_marker = await referrals.agree_plan(area, "equipment")
    await referrals.routed(second_marker.case_id, 1)
    assert await referrals.referrals_of(late) == []


async def test_reopened_case_is_routed_again_and_a_stale_closure_is_ignored(
    referrals: Referrals,
) -> None:
    area = Area()
    await referrals.register(area, ["senior_club"])
    case_id, place = uuid4(), area.place()
    closed = CaseClosed(case_id=case_id, place=place, closed_on=date(2026, 6, 1), outcome="other")
    reopened = CaseReopened(case_id=case_id, place=place, reopened_on=date(2026, 6, 2))
    await referrals.publish(
        closed, envelope=wrap(closed, region="06", service="intake", sequence=2)
    )
    await referrals.publish(
        reopened, envelope=wrap(reopened, region="06", service="intake", sequence=3)
    )
    # the first closure again, redelivered out of order under a new id: older than the reopening
    await referrals.publish(
        closed, envelope=wrap(closed, region="06", service="intake", sequence=2)
    )
    # a plan of the closed round routes nothing; the plan of the second round does
    await referrals.agree_plan(area, "senior_club", case_id=case_id)
    await referrals.agree_plan(area, "senior_club", case_id=case_id, round=2)
    [row] = await referrals.routed(case_id, 1)
    assert (row["state"], row["round"]) == ("assigned", 2)
    # the round-1 diagnosis, published first, was handled before: it left no referral
    assert len(await referrals.referrals_of(case_id)) == 1


async def test_a_closing_arriving_late_leaves_the_next_rounds_referrals_alone(
    referrals: Referrals,
) -> None:
    area = Area()
    await referrals.register(area, ["legal_advice", "meals"], capacity=5)
    first = await referrals.agree_plan(area, "legal_advice")
    [old] = await referrals.routed(first.case_id, 1)
    # The second round's diagnosis (after a reopening) overtakes the first round's closing.
    await referrals.agree_plan(area, "meals", case_id=first.case_id, round=2)
    rows = await referrals.routed(first.case_id, 2)
    await referrals.close_case(area, first.case_id, round=1)
    [cancelled] = await referrals.event("support.cancelled.v1", case_id=first.case_id)
    assert cancelled["referral_id"] == str(old["referral_id"])
    states = {r["support_type"]: r["state"] for r in await referrals.referrals_of(first.case_id)}
    assert states == {"legal_advice": "cancelled", "meals": "assigned"}
    assert len(rows) == 2


async def test_deactivated_institution_has_its_open_referrals_rerouted(
    referrals: Referrals,
) -> None:
    area = Area()
    leaving = await referrals.register(area, ["day_support_centre"], partnership=True)
    staying = await referrals.register(area, ["day_support_centre"])
    cases = [await referrals.agree_plan(area, "day_support_centre") for _ in range(2)]
    for case in cases:
        [row] = await referrals.routed(case.case_id, 1)
        assert row["institution_id"] == leaving
    accepted = (await referrals.referrals_of(cases[1].case_id))[0]
    response = await referrals.http.post(
        f"/api/v1/referrals/{accepted['referral_id']}/accept", headers=referrals.staff(leaving)
    )
    assert response.status_code == 200

    coordinator = referrals.coordinator(area)
    response = await referrals.http.post(
        f"/api/v1/institutions/{leaving}/deactivate", headers=coordinator
    )
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False
    for case in cases:
        [cancelled] = await referrals.event("support.cancelled.v1", case_id=case.case_id)
        assert cancelled["reason"] == "institution_deactivated"
        [_, again] = await referrals.event("support.assigned.v1", 2, case_id=case.case_id)
        assert (again["institution_id"], again["attempt"]) == (str(staying), 2)
    [updated] = await referrals.event("institution.updated.v1", institution_id=leaving)
    assert updated["active"] is False
    response = await referrals.http.post(
        f"/api/v1/institutions/{leaving}/deactivate", headers=coordinator
    )
    assert response.status_code == 409


async def test_an_inbox_is_read_a_page_at_a_time_oldest_first(referrals: Referrals) -> None:
    area = Area()
    institution = await referrals.register(area, ["family_assistant"], capacity=10)
    cases = [await referrals.agree_plan(area, "family_assistant") for _ in range(5)]
    routed = [(await referrals.routed(c.case_id, 1))[0] for c in cases]
    staff = referrals.staff(institution)
    oldest_first = [
        str(r["referral_id"])
        for r in sorted(routed, key=lambda r: (r["created_at"], str(r["referral_id"])))
    ]

    pages = []
    for offset in (0, 2, 4, 6):
        r = await referrals.http.get(
            "/api/v1/referrals", headers=staff, params={"limit": 2, "offset": offset}
        )
        assert r.status_code == 200, r.text
        pages.append([row["referral_id"] for row in r.json()])
    assert pages == [oldest_first[0:2], oldest_first[2:4], oldest_first[4:5], []]
    whole = await referrals.http.get("/api/v1/referrals", headers=staff)
    assert [row["referral_id"] for row in whole.json()] == oldest_first

    for params, field in (({"limit": 0}, "limit"), ({"offset": -1}, "offset"),
                          ({"limit": 1001}, "limit"),
                          ({"offset": 9223372036854775808}, "offset")):  # fmt: skip
        r = await referrals.http.get("/api/v1/referrals", headers=staff, params=params)
        assert r.status_code == 422, (params, r.text)
        assert field in r.text


async def test_one_support_type_twice_in_a_plan_is_one_referral_to_one_institution(
    referrals: Referrals,
) -> None:
    area = Area()
    therapist = await referrals.register(area, ["speech_therapist", "tutoring"], capacity=5)
    # A producer that did not merge them: speech therapy under two needs, and tutoring.
    plan = await referrals.agree_plan(area, "speech_therapist", "speech_therapist", "tutoring")
    await referrals.routed(plan.case_id, 2)
    marker = await referrals.agree_plan(area, "tutoring")
    await referrals.routed(marker.case_id, 1)  # published after: the plan was handled whole
    rows = await referrals.referrals_of(plan.case_id)
    assert sorted(r["support_type"] for r in rows) == ["speech_therapist", "tutoring"]
    assert {r["institution_id"] for r in rows} == {therapist}
    [speech] = [r for r in rows if r["support_type"] == "speech_therapist"]
    assert speech["recommendation_id"] == plan.supports[0].recommendation_id

    # The full set again in a revision routes nothing more; once the support is over, a new
    # recommendation of its type (dropped and added anew) is a support of its own again.
    again = revised(plan, keep=list(plan.supports), add=[], removed=[])
    await referrals.publish(again)
    marker = await referrals.agree_plan(area, "tutoring")
    await referrals.routed(marker.case_id, 1)
    assert len(await referrals.referrals_of(plan.case_id)) == 2
    response = await referrals.http.post(
        f"/api/v1/referrals/{speech['referral_id']}/accept", headers=referrals.staff(therapist)
    )
    assert response.status_code == 200, response.text
    response = await referrals.http.post(
        f"/api/v1/referrals/{speech['referral_id']}/complete",
        headers=referrals.staff(therapist),
        json={"outcome": "achieved"},
    )
    assert response.status_code == 200, response.text
    tutoring = plan.supports[2]
    more = revised(plan, keep=[tutoring], add=["speech_therapist"], removed=[], version=3)
    await referrals.publish(more)
    rows = await referrals.routed(plan.case_id, 3)
    assert sorted(r["state"] for r in rows if r["support_type"] == "speech_therapist") == [
        "assigned",
        "completed",
    ]
