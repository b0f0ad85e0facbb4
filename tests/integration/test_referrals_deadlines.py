"""Deadlines: a missed one is reported once (support.overdue.v1) and listed for the coordinator,
also when it passed while the service was stopped. The test moves a deadline into the past in
referrals' own database rather than waiting a week."""

from __future__ import annotations

import asyncio
from uuid import UUID

import pytest

from services.referrals.deadlines import report_overdue
from shared.auth import Role
from shared.outbox import Origin
from shared.runtime import ServiceContext
from shared.settings import Settings
from tests.integration.referrals_harness import (  # noqa: F401  (fixtures)
    Area,
    Referrals,
    referrals_fixture,
    referrals_process_fixture,
)

pytestmark = pytest.mark.integration


async def _past_acceptance(referrals: Referrals, referral_id: UUID) -> None:
    await referrals.db.execute(
        "UPDATE referrals SET accept_by = now() - interval '1 hour' WHERE referral_id = $1",
        referral_id,
    )


async def _new_referral(referrals: Referrals, area: Area, support_type: str) -> dict:
    case = await referrals.agree_plan(area, support_type)
    [referral] = await referrals.routed(case.case_id, 1)
    return referral


async def test_missed_deadlines_are_reported_once_and_listed_for_the_coordinator(
    referrals: Referrals,
) -> None:
    area = Area()
    institution = await referrals.register(area, ["legal_advice"])
    late = await _new_referral(referrals, area, "legal_advice")
    on_time = await _new_referral(referrals, area, "legal_advice")
    await _past_acceptance(referrals, late["referral_id"])

    [overdue] = await referrals.event("support.overdue.v1", referral_id=late["referral_id"])
    assert (overdue["stage"], overdue["institution_id"]) == ("acceptance", str(institution))
    listed = await referrals.http.get(
        "/api/v1/referrals/overdue", headers=referrals.coordinator(area)
    )
    assert [r["referral_id"] for r in listed.json()] == [str(late["referral_id"])]
    assert listed.json()[0]["stage"] == "acceptance"
    elsewhere = referrals.as_(Role.COORDINATOR, powiat=Area().powiat)
    assert (await referrals.http.get("/api/v1/referrals/overdue", headers=elsewhere)).json() == []

    # Another late referral is reported in a later round; the first is not reported again.
    marker = await _new_referral(referrals, area, "legal_advice")
    await _past_acceptance(referrals, marker["referral_id"])
    await referrals.event("support.overdue.v1", referral_id=marker["referral_id"])
    assert len(referrals.events("support.overdue.v1", referral_id=late["referral_id"])) == 1
    assert referrals.events("support.overdue.v1", referral_id=on_time["referral_id"]) == []

    # Accepted late, it leaves the list; missing the completion deadline is a second report.
    staff = referrals.staff(institution)
    url = f"/api/v1/referrals/{late['referral_id']}"
    assert (await referrals.http.post(f"{url}/accept", headers=staff)).status_code == 200
    listed = await referrals.http.get(
        "/api/v1/referrals/overdue", headers=referrals.coordinator(area)
    )
    assert str(late["referral_id"]) not in [r["referral_id"] for r in listed.json()]
    await referrals.db.execute(
        "UPDATE referrals SET complete_by = now() - interval '1 minute' WHERE referral_id = $1",
        late["referral_id"],
    )
    [_, second] = await referrals.event("support.overdue.v1", 2, referral_id=late["referral_id"])
    assert second["stage"] == "completion"


async def test_deadline_passed_while_the_service_was_down_is_reported_once_after_start(
    referrals: Referrals,
) -> None:
    area = Area()
    await referrals.register(area, ["housing_help"])
    referral = await _new_referral(referrals, area, "housing_help")

    referrals.process.kill()  # a crash: whatever was in memory is gone
    await _past_acceptance(referrals, referral["referral_id"])
    referrals.process.start()
    [overdue] = await referrals.event("support.overdue.v1", referral_id=referral["referral_id"])
    assert overdue["stage"] == "acceptance"

    # Stopped and started again: the report is recorded, not repeated.
    referrals.process.stop()
    referrals.process.start()
    marker = await _new_referral(referrals, area, "housing_help")
    await _past_acceptance(referrals, marker["referral_id"])
    await referrals.event("support.overdue.v1", referral_id=marker["referral_id"])
    assert len(referrals.events("support.overdue.v1", referral_id=referral["referral_id"])) == 1


async def test_several_watches_at_once_report_each_missed_deadline_once(
    referrals: Referrals, settings: Settings
) -> None:
    """As with several instances of the service: the running one's watch and four more rounds
    started here, all on the same database."""
    area = Area()
    await referrals.register(area, ["probation_officer"], capacity=100)
    cases = [await referrals.agree_plan(area, "probation_officer") for _ in range(30)]
    late = [(await referrals.routed(c.case_id, 1))[0]["referral_id"] for c in cases]
    ctx = ServiceContext("referrals", settings, referrals.db, Origin("06", "referrals"))
    await referrals.db.execute(
        "UPDATE referrals SET accept_by = now() - interval '1 hour' WHERE referral_id = ANY($1)",
        late,
    )
    reported = await asyncio.gather(*(report_overdue(ctx) for _ in range(4)))
    assert sum(reported) <= len(late)
    for referral_id in late:
        await referrals.event("support.overdue.v1", referral_id=referral_id)
    marker = await _new_referral(referrals, area, "probation_officer")
    await _past_acceptance(referrals, marker["referral_id"])
    await referrals.event("support.overdue.v1", referral_id=marker["referral_id"])
    for referral_id in late:
        assert len(referrals.events("support.overdue.v1", referral_id=referral_id)) == 1
