"""A family withdraws its consent mid-way (RODO art. 7(3)): one support already accepted, another
still waiting for an answer. The withdrawal's effects in every service, from one event: intake
shares nothing more and audits the grants it ended, the team adds nothing to the diagnosis,
the unaccepted referral is cancelled, the accepted support goes on as the institution's own
relation, and reporting counts the cancellation. Consent given again reopens sharing."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from shared.auth import Role
from shared.envelope import parse_envelope
from tests.e2e.conftest import Api
from tests.support import a_household, a_person

pytestmark = pytest.mark.e2e
GMINA = "1806042"  # Niwiska, kolbuszowski, podkarpackie: no other test uses it
REASON = {"reason": "kontakt z rodziną"}


async def _referral_of(api: Api, staff: dict[str, str], case_id: str) -> dict[str, Any]:
    async def in_inbox() -> Any:
        r = await api.call("GET", "referrals", "/referrals", staff)
        return [x for x in r.json() if x["case_id"] == case_id] if r.status_code == 200 else None

    [referral] = await api.eventually(in_inbox, what="the referral in the inbox")
    return referral  # type: ignore[no-any-return]


async def test_consent_withdrawn_mid_way_ends_sharing_in_every_service(
    api: Api, outside_subscriber: list[bytes]
) -> None:
    coordinator = api.as_(Role.COORDINATOR, gmina=GMINA)
    caseworker = api.as_(Role.CASEWORKER, gmina=GMINA)
    gops = await api.register_institution(GMINA, "GOPS Niwiska", ["family_assistant"])
    clinic = await api.register_institution(
        GMINA, "Poradnia Niwiska", ["psychologist"], sector="health"
    )
    gops_staff = api.as_(Role.INSTITUTION_STAFF, institution=gops)
    clinic_staff = api.as_(Role.INSTITUTION_STAFF, institution=clinic)
    team_member = api.as_(Role.TEAM_MEMBER, gmina=GMINA, institution=clinic)

    response = await api.call(
        "POST",
        "intake",
        "/cases",
        caseworker,
        json=a_household(GMINA, a_person("Teodora", "Wycofana", birth_date="1983-02-27")),
    )
    assert response.status_code == 201, response.text
    case_id = str(response.json()["case_id"])
    diagnosis = await api.diagnosis_of(case_id, coordinator)
    did = diagnosis["diagnosis_id"]
    response = await api.call(
        "POST",
        "diagnosis",
        f"/diagnoses/{did}/assessments",
        team_member,
        json={
            "need_area": "mental_health",
            "severity": 2,
            "recommendations": [
                {"support_type": "family_assistant", "priority": 1},
                {"support_type": "psychologist", "priority": 2},
            ],
        },
    )
    assert response.status_code == 201, response.text
    response = await api.call("POST", "diagnosis", f"/diagnoses/{did}/complete", coordinator)
    assert response.status_code == 200, response.text
    await api.agree_plan(did, coordinator)

    accepted = await _referral_of(api, gops_staff, case_id)
    waiting = await _referral_of(api, clinic_staff, case_id)
    response = await api.call(
        "POST", "referrals", f"/referrals/{accepted['referral_id']}/accept", gops_staff
    )
    assert response.status_code == 200, response.text
    persons = f"/cases/{case_id}/persons"

    async def gops_reads() -> bool:
        r = await api.call("GET", "intake", persons, gops_staff, params=REASON)
        return r.status_code == 200 and r.json()["persons"][0]["last_name"] == "Wycofana"

    await api.eventually(gops_reads, what="the GOPS to be granted access")

    # The family withdraws its consent.
    response = await api.call(
        "POST",
        "intake",
        f"/cases/{case_id}/consent/withdrawal",
        {**caseworker, "Idempotency-Key": f"withdraw-{case_id}"},
        json={"withdrawn_on": date.today().isoformat()},
    )
    assert response.status_code == 200, response.text

    # intake: no institution reads the family's personal data any more, and that is audited.
    for staff in (gops_staff, clinic_staff):
        r = await api.call("GET", "intake", persons, staff, params=REASON)
        assert r.status_code == 403, r.text
        assert "Wycofana" not in r.text and "Teodora" not in r.text
    r = await api.call("GET", "intake", "/audit", coordinator, params={"case_id": case_id})
    ended = [(e["access"], e["institution"]) for e in r.json() if e["access"] == "grant_ended"]
    assert ended == [("grant_ended", gops)]

    # referrals: the referral not yet accepted is cancelled for that reason, so it cannot be
    # accepted; the accepted support goes on and can still be completed.
    async def cancelled() -> Any:
        r = await api.call("GET", "referrals", f"/referrals/{waiting['referral_id']}", coordinator)
        return r.json() if r.json()["state"] == "cancelled" else None

    row = await api.eventually(cancelled, what="the waiting referral to be cancelled")
    assert row["cancel_reason"] == "consent_withdrawn"
    r = await api.call(
        "POST", "referrals", f"/referrals/{waiting['referral_id']}/accept", clinic_staff
    )
    assert r.status_code == 409, r.text
    r = await api.call("GET", "referrals", f"/referrals/{accepted['referral_id']}", coordinator)
    assert r.json()["state"] == "accepted"

    # diagnosis: the team adds nothing more.
    async def team_refused() -> Any:
        r = await api.call(
            "POST",
            "diagnosis",
            f"/diagnoses/{did}/revisions",
            coordinator,
            json={"add": [{"support_type": "meals", "need_area": "mental_health"}]},
        )
        return r if r.status_code == 409 else None

    refused = await api.eventually(team_refused, what="diagnosis to learn of the withdrawal")
    assert refused.json()["code"] == "consent_withdrawn"

    # reporting counts the cancellation (coordinators see their figures in full).
    async def reported() -> Any:
        r = await api.call(
            "GET",
            "reporting",
            "/reports/referrals",
            coordinator,
            params={"gmina": GMINA, "by": "gmina"},
        )
        rows = r.json()["rows"] if r.status_code == 200 else []
        return rows if [x["cells"].get("cancelled") for x in rows] == [1] else None

    await api.eventually(reported, what="reporting to count the cancelled referral")

    # The public stream carries the withdrawal as codes and a date; nothing personal.
    async def withdrawal_events() -> list[Any]:
        return [
            parse_envelope(b)
            for b in list(outside_subscriber)
            if case_id.encode() in b and b"case.consent_withdrawn.v1" in b
        ]

    [withdrawn] = await api.eventually(withdrawal_events, what="case.consent_withdrawn.v1")
    assert set(withdrawn.data) == {"case_id", "place", "withdrawn_on"}
    raw = b"".join(b for b in outside_subscriber if case_id.encode() in b)
    for personal in (b"Teodora", b"Wycofana", b"1983-02-27"):
        assert personal not in raw

    r = await api.call(
        "POST",
        "referrals",
        f"/referrals/{accepted['referral_id']}/complete",
        gops_staff,
        json={"outcome": "achieved"},
    )
    assert r.status_code == 200, r.text

    # Consent given again reopens sharing: the cancelled support is routed anew.
    r = await api.call(
        "POST",
        "intake",
        f"/cases/{case_id}/consent",
        caseworker,
        json={"given_on": date.today().isoformat()},
    )
    assert r.status_code == 200, r.text

    async def routed_again() -> Any:
        r = await api.call("GET", "referrals", "/referrals?state=assigned", clinic_staff)
        return [x for x in r.json() if x["case_id"] == case_id] if r.status_code == 200 else None

    [again] = await api.eventually(routed_again, what="the support to be routed again")
    assert again["referral_id"] != waiting["referral_id"]
    assert again["recommendation_id"] == waiting["recommendation_id"]
