"""A family's consent withdrawn (RODO art. 7(3)) and given again, as referrals follows it from
intake's events: in any order, more than once, the later of the two (by intake's per-case
sequence) stands."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest

from shared.envelope import Envelope, wrap
from shared.events import CaseConsentGiven, CaseConsentWithdrawn, Event
from tests.integration.conftest import eventually
from tests.integration.referrals_harness import (  # noqa: F401  (fixtures)
    Area,
    Referrals,
    agreed,
    referrals_fixture,
    referrals_process_fixture,
)

pytestmark = pytest.mark.integration


def withdrawn(area: Area, case_id: UUID) -> CaseConsentWithdrawn:
    return CaseConsentWithdrawn(case_id=case_id, place=area.place(), withdrawn_on=date(2026, 6, 3))


def given(area: Area, case_id: UUID) -> CaseConsentGiven:
    return CaseConsentGiven(case_id=case_id, place=area.place(), given_on=date(2026, 6, 9))


async def from_intake(referrals: Referrals, event: Event, sequence: int) -> Envelope:
    """Publish as intake does, with its per-case sequence; wait until referrals handled it."""
    envelope = wrap(event, region="06", service="intake", sequence=sequence)
    await referrals.publish(event, envelope=envelope)

    async def handled() -> bool:
        return bool(
            await referrals.db.fetchval("SELECT 1 FROM inbox WHERE event_id = $1", envelope.id)
        )

    await eventually(handled, what=f"{event.routing_key} handled")
    return envelope


async def states(referrals: Referrals, case_id: UUID) -> list[tuple[str, str | None]]:
    return sorted((r["state"], r["cancel_reason"]) for r in await referrals.referrals_of(case_id))


async def test_withdrawal_cancels_unaccepted_referrals_and_keeps_accepted_ones(
    referrals: Referrals,
) -> None:
    area = Area()
    institution = await referrals.register(area, ["psychologist", "tutoring"], capacity=2)
    case = await referrals.agree_plan(area, "psychologist", "tutoring", "legal_advice")
    rows = await referrals.routed(case.case_id, 3)
    by_type = {r["support_type"]: r for r in rows}
    assert by_type["legal_advice"]["state"] == "unassignable"
    response = await referrals.http.post(
        f"/api/v1/referrals/{by_type['psychologist']['referral_id']}/accept",
        headers=referrals.staff(institution),
    )
    assert response.status_code == 200, response.text
    # other families wait for the tutoring place this case holds
    waiting = [await referrals.agree_plan(area, "tutoring") for _ in range(3)]

    async def assigned_waiting() -> int:
        found = [s for w in waiting for s, _ in await states(referrals, w.case_id)]
        return found.count("assigned")

    for family in waiting:
        await referrals.routed(family.case_id, 1)
    assert await assigned_waiting() == 1

    event = withdrawn(area, case.case_id)
    await from_intake(referrals, event, sequence=4)
    assert await states(referrals, case.case_id) == [
        ("accepted", None),  # goes on as the institution's own relation with the family
        ("cancelled", "consent_withdrawn"),
        ("cancelled", "consent_withdrawn"),
    ]
    [cancelled] = await referrals.event("support.cancelled.v1", case_id=case.case_id)
    assert (cancelled["reason"], cancelled["support_type"]) == ("consent_withdrawn", "tutoring")
    # the place freed goes to a waiting family
    assert await assigned_waiting() == 2

    # The same withdrawal again (a redelivery under its id, a duplicate under a new one)
    # changes nothing and announces nothing more.
    await referrals.publish(event, envelope=wrap(event, region="06", service="intake", sequence=4))
    await from_intake(referrals, event, sequence=4)
    assert len(await referrals.referrals_of(case.case_id)) == 3
    assert len(referrals.events("support.cancelled.v1", case_id=case.case_id)) == 1

    # The accepted support can still be completed by the institution.
    response = await referrals.http.post(
        f"/api/v1/referrals/{by_type['psychologist']['referral_id']}/complete",
        headers=referrals.staff(institution),
        json={"outcome": "achieved"},
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("withdrawal_first", [True, False])
async def test_consent_given_again_after_a_withdrawal_wins_in_either_order(
    referrals: Referrals, withdrawal_first: bool
) -> None:
    area = Area()
    institution = await referrals.register(area, ["speech_therapist"])
    case = await referrals.agree_plan(area, "speech_therapist")
    [first] = await referrals.routed(case.case_id, 1)
    assert first["state"] == "assigned"

    events: list[tuple[Event, int]] = [
        (withdrawn(area, case.case_id), 4),
        (given(area, case.case_id), 5),
    ]
    for event, sequence in events if withdrawal_first else reversed(events):
        await from_intake(referrals, event, sequence)

    # Either way the recommendation has a live referral at the same institution at the end.
    rows = await referrals.referrals_of(case.case_id)
    live = [r for r in rows if r["state"] == "assigned"]
    assert [(r["recommendation_id"], r["institution_id"]) for r in live] == [
        (first["recommendation_id"], institution)
    ]
    if withdrawal_first:
        assert len(rows) == 2 and rows[0]["cancel_reason"] == "consent_withdrawn"
    else:
        assert [r["referral_id"] for r in rows] == [first["referral_id"]]


async def test_a_plan_arriving_while_consent_is_withdrawn_is_held_until_consent_is_given(
    referrals: Referrals,
) -> None:
    area = Area()
    await referrals.register(area, ["meals", "equipment"])
    case_id = uuid4()
    await from_intake(referrals, withdrawn(area, case_id), sequence=3)
    diagnosis = agreed(area, "meals", "equipment", case_id=case_id)
    await from_intake(referrals, diagnosis, sequence=1)
    assert await states(referrals, case_id) == [("cancelled", "consent_withdrawn")] * 2
    assert referrals.events("support.assigned.v1", case_id=case_id) == []

    # An older consent (before the withdrawal) arriving late changes nothing ...
    await from_intake(referrals, given(area, case_id), sequence=2)
    assert await states(referrals, case_id) == [("cancelled", "consent_withdrawn")] * 2
    # ... consent given after it routes what was held, once however often it is delivered.
    again = given(area, case_id)
    await from_intake(referrals, again, sequence=4)
    await from_intake(referrals, again, sequence=4)
    assigned = await referrals.event("support.assigned.v1", 2, case_id=case_id)
    assert sorted(a["support_type"] for a in assigned) == ["equipment", "meals"]
    assert await states(referrals, case_id) == [
        ("assigned", None),
        ("assigned", None),
        ("cancelled", "consent_withdrawn"),
        ("cancelled", "consent_withdrawn"),
    ]


async def test_a_later_withdrawal_arriving_first_is_not_undone_by_an_earlier_consent(
    referrals: Referrals,
) -> None:
    area = Area()
    await referrals.register(area, ["housing_help"])
    case = await referrals.agree_plan(area, "housing_help")
    await referrals.routed(case.case_id, 1)
    # withdrawn (4), consent again (5), withdrawn again (6): the last arrives first.
    for event, sequence in (
        (withdrawn(area, case.case_id), 6),
        (given(area, case.case_id), 5),
        (withdrawn(area, case.case_id), 4),
    ):
        await from_intake(referrals, event, sequence)
    rows: list[dict[str, Any]] = await referrals.referrals_of(case.case_id)
    assert [(r["state"], r["cancel_reason"]) for r in rows] == [("cancelled", "consent_withdrawn")]
    assert len(referrals.events("support.cancelled.v1", case_id=case.case_id)) == 1
