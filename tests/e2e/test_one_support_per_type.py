"""The same support recommended under two needs is one support: the plan carries both needs, and
the family gets one referral, to one institution."""

from __future__ import annotations

from typing import Any

import pytest

from shared.auth import Role
from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e
GMINA = "1810062"  # Rakszawa, łańcucki, podkarpackie, rural: no other test uses it


async def test_speech_therapy_recommended_under_two_needs_is_one_referral(api: Api) -> None:
    ppp = await api.register_institution(
        GMINA, "Poradnia Psychologiczno-Pedagogiczna w Łańcucie", ["speech_therapist"],
        sector="education",
    )  # fmt: skip
    await api.register_institution(GMINA, "GOPS Rakszawa", ["family_assistant"])
    coordinator = api.as_(Role.COORDINATOR, gmina=GMINA)
    child = {
        "first_name": "Kacper", "last_name": "Mowny", "birth_date": "2019-05-02", "sex": "M",
        "relation": "child",
    }  # fmt: skip
    case_id = await api.open_case(GMINA, child, reasons=["8"], notified_by="school")
    diagnosis = await api.diagnosis_of(case_id, coordinator)
    did = diagnosis["diagnosis_id"]

    supports = []
    for need, others in (("child_education", []), ("disability", ["family_assistant"])):
        response = await api.call(
            "POST",
            "diagnosis",
            f"/diagnoses/{did}/assessments",
            coordinator,
            json={
                "need_area": need,
                "severity": 2,
                "recommendations": [
                    {"support_type": t, "priority": p}
                    for t, p in (
                        ("speech_therapist", 2 if others else 1),
                        *((o, 2) for o in others),
                    )
                ],
            },
        )
        assert response.status_code == 201, response.text
        supports.append(response.json()["recommendations"][0])
    # The second assessment's speech therapy is the support the first one planned.
    assert supports[0] == supports[1]

    response = await api.call("GET", "diagnosis", f"/diagnoses/{did}", coordinator)
    plan = {r["support_type"]: r for r in response.json()["recommendations"]}
    assert set(plan) == {"speech_therapist", "family_assistant"}
    speech = plan["speech_therapist"]
    assert (speech["recommendation_id"], speech["need_areas"], speech["priority"]) == (
        supports[0],
        ["child_education", "disability"],
        1,
    )
    response = await api.call("POST", "diagnosis", f"/diagnoses/{did}/complete", coordinator)
    assert response.status_code == 200, response.text
    assert response.json()["recommendations"] == 2
    await api.agree_plan(did, coordinator)  # the family agrees: support starts

    async def routed() -> list[dict[str, Any]]:
        # One plan event routes all its referrals in one transaction.
        r = await api.call("GET", "referrals", f"/referrals?case_id={case_id}", coordinator)
        return list(r.json()) if r.status_code == 200 else []

    referrals = await api.eventually(routed, what="the plan's referrals")
    assert sorted(r["support_type"] for r in referrals) == ["family_assistant", "speech_therapist"]
    [therapy] = [r for r in referrals if r["support_type"] == "speech_therapist"]
    assert (str(therapy["institution_id"]), str(therapy["recommendation_id"])) == (
        ppp,
        supports[0],
    )
