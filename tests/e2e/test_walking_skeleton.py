"""One case through all four services over HTTP and the broker, as the people would drive it."""

from __future__ import annotations

import pytest

from kooperacja.demo_data import pesel_for
from shared.auth import Role
from shared.envelope import parse_envelope
from tests.e2e.conftest import Api
from tests.support import a_child, a_household, a_person

pytestmark = pytest.mark.e2e
GMINA = "0601042"  # Drelów, rural


async def test_case_travels_from_intake_to_reporting(
    api: Api, outside_subscriber: list[bytes]
) -> None:
    from datetime import date

    coordinator = api.as_(Role.COORDINATOR, gmina=GMINA)
    institution_id = await api.register_institution(
        GMINA, "GOPS Drelów", ["family_assistant", "financial_benefit"]
    )

    pesel = pesel_for(date(1987, 3, 14), "F", 321)
    response = await api.call(
        "POST",
        "intake",
        "/cases",
        api.as_(Role.CASEWORKER, gmina=GMINA),
        json=a_household(
            GMINA,
            a_person("Grażyna", "Szczepańska", birth_date="1987-03-14", pesel=pesel),
            a_child("Oliwer", "Szczepański", "2015-06-02"),
            reasons=["1", "9"],
            notified_by="school",
        ),
    )
    assert response.status_code == 201, response.text
    case_id = response.json()["case_id"]

    team = api.as_(Role.TEAM_MEMBER, gmina=GMINA, institution=institution_id)

    diagnosis = await api.diagnosis_of(case_id, team)
    secret_note = "Matka wspomina o długach u sąsiada Kowalskiego"
    response = await api.call(
        "POST",
        "diagnosis",
        f"/diagnoses/{diagnosis['diagnosis_id']}/assessments",
        team,
        json={
            "need_area": "parenting",
            "severity": 2,
            "notes": secret_note,
            "recommendations": [
                {"support_type": "family_assistant", "priority": 1},
                {"support_type": "speech_therapist", "priority": 2},
            ],
        },
    )
    assert response.status_code == 201, response.text
    response = await api.call(
        "POST", "diagnosis", f"/diagnoses/{diagnosis['diagnosis_id']}/complete", coordinator
    )
    assert response.status_code == 200, response.text
    await api.agree_plan(diagnosis["diagnosis_id"], coordinator)

    async def routed():
        r = await api.call("GET", "referrals", f"/referrals?case_id={case_id}", coordinator)
        return r.json() if len(r.json()) == 2 else None

    referrals = {r["support_type"]: r for r in await api.eventually(routed, what="routing")}
    assert referrals["family_assistant"]["state"] == "assigned"
    assert referrals["family_assistant"]["institution_id"] == institution_id
    assert referrals["speech_therapist"]["state"] == "unassignable"

    # a coordinator of the gmina reads it in full (analysts get small counts withheld)
    coordinator = api.as_(Role.COORDINATOR, gmina=GMINA)

    async def reported():
        r = await api.call("GET", "reporting", "/reports/summary", coordinator)
        rows = [g for g in r.json()["rows"] if g["key"] == GMINA]
        return rows[0] if rows and rows[0]["supports_assigned"] == 1 else None

    row = await api.eventually(reported, what="reporting to count the support")
    assert row == {
        "key": GMINA,
        "label": "Drelów",
        "cases_opened": 1,
        "supports_assigned": 1,
        "referrals": 1,
        "hidden": [],
    }

    # What a subscribing system saw: the whole story, and no person in it.
    ours = [b for b in outside_subscriber if case_id.encode() in b]
    types = {parse_envelope(b).type.removeprefix("pl.kooperacja.") for b in ours}
    assert {
        "case.opened.v1",
        "diagnosis.completed.v1",
        "plan.agreed.v1",
        "support.assigned.v1",
        "support.unassignable.v1",
    } <= types
    everything = b"\n".join(outside_subscriber).decode()
    for personal in (
        "Grażyna",
        "Szczepańsk",
        pesel,
        "1987-03-14",
        "2015-06-02",
        "Kowalski",
        "długach",
    ):
        assert personal not in everything, f"{personal!r} left intake in an event"
