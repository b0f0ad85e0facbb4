"""A recommendation from a real diagnosis through the closed loop, as the people drive it:
the first institution declines, the next one accepts (two staff at once: one wins) and records
the outcome; a subscribing system sees every step and no person in it."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from kooperacja.demo_data import pesel_for
from shared.auth import Role
from shared.envelope import parse_envelope
from tests.e2e.conftest import Api
from tests.support import a_household, a_person

pytestmark = pytest.mark.e2e
GMINA = "2014052"  # Zambrów, rural, podlaskie: no other test uses it


async def test_declined_support_is_rerouted_accepted_once_and_completed(
    api: Api, outside_subscriber: list[bytes]
) -> None:
    coordinator = api.as_(Role.COORDINATOR, gmina=GMINA)
    institutions = []
    for name, partner in (("GOPS Zambrów", True), ("Fundacja Pomocna Dłoń", False)):
        sector = "social_assistance" if partner else "ngo"
        institutions.append(
            await api.register_institution(
                GMINA, name, ["family_assistant"], sector=sector, capacity=3, partner=partner
            )
        )
    gops, ngo = institutions

    pesel = pesel_for(date(1979, 11, 2), "M", 457)
    response = await api.call(
        "POST",
        "intake",
        "/cases",
        api.as_(Role.CASEWORKER, gmina=GMINA),
        json=a_household(
            GMINA,
            a_person("Zdzisław", "Wróblewski", birth_date="1979-11-02", sex="M", pesel=pesel),
            reasons=["9"],
            notified_by="police",
        ),
    )
    assert response.status_code == 201, response.text
    case_id = response.json()["case_id"]

    team = api.as_(Role.TEAM_MEMBER, gmina=GMINA, institution=gops)

    diagnosis = await api.diagnosis_of(case_id, team)
    response = await api.call(
        "POST",
        "diagnosis",
        f"/diagnoses/{diagnosis['diagnosis_id']}/assessments",
        team,
        json={
            "need_area": "parenting",
            "severity": 3,
            "notes": "Ojciec pracuje za granicą u pana Nowickiego",
            "recommendations": [{"support_type": "family_assistant", "priority": 1}],
        },
    )
    assert response.status_code == 201, response.text
    response = await api.call(
        "POST", "diagnosis", f"/diagnoses/{diagnosis['diagnosis_id']}/complete", coordinator
    )
    assert response.status_code == 200, response.text
    await api.agree_plan(diagnosis["diagnosis_id"], coordinator)

    gops_staff = api.as_(Role.INSTITUTION_STAFF, institution=gops)
    ngo_staff = api.as_(Role.INSTITUTION_STAFF, institution=ngo)

    async def in_inbox(who: dict[str, str]):
        r = await api.call("GET", "referrals", "/referrals?state=assigned", who)
        return [x for x in r.json() if x["case_id"] == case_id]

    [referral] = await api.eventually(lambda: in_inbox(gops_staff), what="the GOPS inbox")
    response = await api.call(
        "POST",
        "referrals",
        f"/referrals/{referral['referral_id']}/decline",
        gops_staff,
        json={"reason": "no_capacity"},
    )
    assert response.status_code == 200, response.text

    [rerouted] = await api.eventually(lambda: in_inbox(ngo_staff), what="the NGO inbox")
    assert rerouted["attempt"] == 2
    accept = f"/referrals/{rerouted['referral_id']}/accept"
    answers = await asyncio.gather(
        api.call("POST", "referrals", accept, ngo_staff),
        api.call("POST", "referrals", accept, ngo_staff),
    )
    assert sorted(a.status_code for a in answers) == [200, 409]
    response = await api.call(
        "POST",
        "referrals",
        f"/referrals/{rerouted['referral_id']}/complete",
        ngo_staff,
        json={"outcome": "achieved"},
    )
    assert response.status_code == 200, response.text

    def story() -> list[str]:
        return [
            parse_envelope(b).type.removeprefix("pl.kooperacja.")
            for b in list(outside_subscriber)
            if case_id.encode() in b and parse_envelope(b).source.endswith("/referrals")
        ]

    async def whole_story():
        return story() if "support.completed.v1" in story() else None

    assert await api.eventually(whole_story, what="the referral story") == [
        "support.assigned.v1",
        "referral.declined.v1",
        "support.assigned.v1",
        "referral.accepted.v1",
        "support.completed.v1",
    ]
    everything = b"\n".join(outside_subscriber).decode()
    for personal in ("Zdzisław", "Wróblewsk", pesel, "1979-11-02", "Nowick"):
        assert personal not in everything, f"{personal!r} left intake in an event"
