"""A case transferred to another gmina's OPS (case.transferred.v1), as referrals follows it: the
accepted support goes on, one not accepted yet is routed anew in the receiving gmina, a waiting
one moves with the case; the receiving gmina's staff read the case's referrals, the sending
gmina's no longer. In any order, more than once, the latest transfer by intake's sequence."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from services.referrals import store
from shared.auth import Role
from shared.envelope import Envelope, wrap
from shared.events import CaseTransferred, Event
from tests.integration.conftest import eventually
from tests.integration.referrals_harness import (  # noqa: F401  (fixtures)
    Area,
    Referrals,
    agreed,
    referrals_fixture,
    referrals_process_fixture,
)

pytestmark = pytest.mark.integration


def transferred(area: Area, case_id: UUID, to: str, from_: str | None = None) -> CaseTransferred:
    return CaseTransferred(
        case_id=case_id,
        place=area.place(to),
        from_place=area.place(from_),
        transferred_on=date(2026, 6, 5),
    )


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


async def test_a_transfer_keeps_accepted_support_and_routes_the_rest_in_the_receiving_gmina(
    referrals: Referrals,
) -> None:
    area = Area()
    sending, receiving = area.gminas[0], area.gminas[1]
    here = await referrals.register(area, ["psychologist", "tutoring"], gminas=[sending])
    there = await referrals.register(area, ["tutoring", "legal_advice"], gminas=[receiving])
    case = await referrals.agree_plan(area, "psychologist", "tutoring", "legal_advice")
    rows = {r["support_type"]: r for r in await referrals.routed(case.case_id, 3)}
    assert rows["legal_advice"]["state"] == "unassignable"  # no one in the sending gmina
    accepted = rows["psychologist"]["referral_id"]
    r = await referrals.http.post(
        f"/api/v1/referrals/{accepted}/accept", headers=referrals.staff(here)
    )
    assert r.status_code == 200, r.text

    event = transferred(area, case.case_id, receiving)
    await from_intake(referrals, event, sequence=3)
    [cancelled] = await referrals.event("support.cancelled.v1", case_id=case.case_id)
    assert (cancelled["reason"], cancelled["institution_id"]) == ("case_transferred", str(here))
    assert cancelled["place"]["gmina"] == sending  # the referral's own place, where it was made
    assigned = await referrals.event("support.assigned.v1", 2, institution_id=there)
    mine = [a for a in assigned if a["case_id"] == str(case.case_id)]
    assert sorted(a["support_type"] for a in mine) == ["legal_advice", "tutoring"]
    assert {a["place"]["gmina"] for a in mine} == {receiving}
    states = sorted(
        (r["support_type"], r["state"], r["cancel_reason"], r["gmina"])
        for r in await referrals.referrals_of(case.case_id)
    )
    assert states == [
        ("legal_advice", "assigned", None, receiving),  # the waiting one moved and was routed
        ("psychologist", "accepted", None, sending),  # goes on: the institution's relation
        ("tutoring", "assigned", None, receiving),
        ("tutoring", "cancelled", "case_transferred", sending),
    ]
    # the open load moved with the support: the counters agree with a recount
    assert await store.open_load_drift(referrals.db) == []
    load = {
        (r["institution_id"], r["support_type"]): r["open_referrals"]
        for r in await referrals.db.fetch(
            "SELECT * FROM institution_load WHERE institution_id = ANY($1::uuid[])", [here, there]
        )
    }
    assert load == {
        (here, "psychologist"): 1,
        (here, "tutoring"): 0,
        (there, "tutoring"): 1,
        (there, "legal_advice"): 1,
    }

    # The receiving gmina's staff read every referral of the case; the sending gmina's none.
    for role in (Role.CASEWORKER, Role.COORDINATOR):
        now = referrals.as_(role, gmina=receiving)
        r = await referrals.http.get(f"/api/v1/cases/{case.case_id}/referrals", headers=now)
        assert r.status_code == 200 and len(r.json()) == 4, r.text
        before = referrals.as_(role, gmina=sending)
        r = await referrals.http.get(f"/api/v1/cases/{case.case_id}/referrals", headers=before)
        assert r.status_code == 200 and r.json() == [], r.text
    coordinator_there = referrals.as_(Role.COORDINATOR, gmina=receiving)
    coordinator_here = referrals.as_(Role.COORDINATOR, gmina=sending)
    r = await referrals.http.get(f"/api/v1/referrals/{accepted}", headers=coordinator_there)
    assert r.status_code == 200, r.text
    r = await referrals.http.get(f"/api/v1/referrals/{accepted}", headers=coordinator_here)
    assert r.status_code == 404, r.text
    r = await referrals.http.get(
        "/api/v1/referrals", headers=coordinator_here, params={"case_id": str(case.case_id)}
    )
    assert r.json() == [], r.text
    r = await referrals.http.get(
        "/api/v1/referrals", headers=coordinator_there, params={"case_id": str(case.case_id)}
    )
    assert len(r.json()) == 4, r.text

    # The same transfer again (redelivered under its id, or a duplicate under a new one)
    # changes nothing and announces nothing more.
    await referrals.publish(event, envelope=wrap(event, region="06", service="intake", sequence=3))
    await from_intake(referrals, event, sequence=3)
    assert len(await referrals.referrals_of(case.case_id)) == 4
    assert len(referrals.events("support.cancelled.v1", case_id=case.case_id)) == 1
    assert len(referrals.events("support.assigned.v1", case_id=case.case_id)) == 4
    # The institution completes the support it accepted before the move.
    r = await referrals.http.post(
        f"/api/v1/referrals/{accepted}/complete",
        headers=referrals.staff(here),
        json={"outcome": "achieved"},
    )
    assert r.status_code == 200, r.text


async def test_a_transfer_before_the_plan_routes_it_where_the_case_is_and_the_latest_stands(
    referrals: Referrals,
) -> None:
    area = Area()
    sending, receiving, third = area.gminas[0], area.gminas[1], area.gminas[2]
    await referrals.register(area, ["meals"], gminas=[sending])
    there = await referrals.register(area, ["meals"], gminas=[receiving])
    await referrals.register(area, ["meals"], gminas=[third])
    case = agreed(area, "meals")  # agreed while the case was in the sending gmina
    # the transfer (4) arrives first, then an older one (2, to a third gmina), then the plan
    await from_intake(referrals, transferred(area, case.case_id, receiving, sending), 4)
    await from_intake(referrals, transferred(area, case.case_id, third, sending), 2)
    await referrals.publish(case)
    [row] = await referrals.routed(case.case_id, 1)
    assert (row["state"], row["institution_id"], row["gmina"]) == ("assigned", there, receiving)
    [one] = await referrals.event("support.assigned.v1", case_id=case.case_id)
    assert one["place"]["gmina"] == receiving
    placed = await referrals.db.fetchrow(
        "SELECT gmina, sequence FROM case_places WHERE case_id = $1", case.case_id
    )
    assert (placed["gmina"], placed["sequence"]) == (receiving, 4)
    assert await store.open_load_drift(referrals.db) == []
