"""A case opened without consent stays with the centre; consent recorded later sends it to the
partner team's diagnosis, and from there its recommendation is routed like any other."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from shared.auth import Role
from shared.envelope import parse_envelope
from tests.e2e.conftest import Api
from tests.support import a_household, a_person

pytestmark = pytest.mark.e2e
GMINA = "2601022"  # Gnojno, buski, świętokrzyskie, rural: no other test uses it


async def _open_case(api: Api, consent: bool, last_name: str) -> str:
    response = await api.call(
        "POST",
        "intake",
        "/cases",
        api.as_(Role.CASEWORKER, gmina=GMINA),
        json=a_household(
            GMINA,
            a_person("Halina", last_name, birth_date="1971-06-14"),
            reasons=["14"],
            notified_by="health",
            consent=consent,
        ),
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == ("in_diagnosis" if consent else "opened")
    return str(response.json()["case_id"])


async def test_consent_given_later_opens_the_diagnosis_and_the_support_is_routed(
    api: Api, outside_subscriber: list[bytes]
) -> None:
    coordinator = api.as_(Role.COORDINATOR, gmina=GMINA)
    caseworker = api.as_(Role.CASEWORKER, gmina=GMINA)
    gops = await api.register_institution(GMINA, "GOPS Gnojno", ["family_assistant"], capacity=3)

    case_id = await _open_case(api, consent=False, last_name="Zgodna")
    # A case opened after it with consent gets its diagnosis; by then the first case's
    # opening has been handled too, and it has none.
    witness = await _open_case(api, consent=True, last_name="Świadek")
    await api.diagnosis_of(witness, coordinator)
    response = await api.call("GET", "diagnosis", f"/diagnoses?case_id={case_id}", coordinator)
    assert response.status_code == 200 and response.json() == [], response.text

    response = await api.call(
        "POST",
        "intake",
        f"/cases/{case_id}/consent",
        {**caseworker, "Idempotency-Key": f"consent-{case_id}"},
        json={"given_on": date.today().isoformat(), "scope": []},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"case_id": case_id, "status": "in_diagnosis"}

    diagnosis = await api.diagnosis_of(case_id, coordinator)
    assert diagnosis["status"] == "open"
    response = await api.call(
        "POST",
        "diagnosis",
        f"/diagnoses/{diagnosis['diagnosis_id']}/assessments",
        coordinator,
        json={
            "need_area": "health",
            "severity": 2,
            "recommendations": [{"support_type": "family_assistant", "priority": 1}],
        },
    )
    assert response.status_code == 201, response.text
    response = await api.call(
        "POST", "diagnosis", f"/diagnoses/{diagnosis['diagnosis_id']}/complete", coordinator
    )
    assert response.status_code == 200, response.text
    await api.agree_plan(diagnosis["diagnosis_id"], coordinator)

    staff = api.as_(Role.INSTITUTION_STAFF, institution=gops)

    async def in_inbox() -> Any:
        r = await api.call("GET", "referrals", "/referrals?state=assigned", staff)
        return [x for x in r.json() if x["case_id"] == case_id] if r.status_code == 200 else None

    [referral] = await api.eventually(in_inbox, what="the referral in the GOPS inbox")
    assert referral["support_type"] == "family_assistant"

    # The public stream has the consent as a fact of codes and dates, nothing personal.
    async def consent_events() -> list[Any]:
        return [
            parse_envelope(b)
            for b in list(outside_subscriber)
            if case_id.encode() in b and b"case.consent_given.v1" in b
        ]

    [given] = await api.eventually(consent_events, what="case.consent_given.v1 outside")
    assert set(given.data) == {"case_id", "place", "given_on", "round", "scope"}
    raw = b"".join(b for b in outside_subscriber if case_id.encode() in b)
    for personal in (b"Halina", b"Zgodna", b"1971-06-14"):
        assert personal not in raw
