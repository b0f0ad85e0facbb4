"""What the partner roles' browser tests stand on: the demo people's institutions in the
directory (serving only their own gmina, so that no other test's routing can pick them), and a
family's case brought to the step a test starts from, through the APIs."""

from __future__ import annotations

from typing import Any

from kooperacja.demo_data import DEMO_PEOPLE
from shared.auth import Role
from tests.stack import Api

GMINA = "0601032"  # Biała Podlaska (gmina wiejska): the demo people's gmina, no other test's
PCPR = "Powiatowe Centrum Pomocy Rodzinie w Białej Podlaskiej"  # the team member's institution
PUP = "Powiatowy Urząd Pracy w Białej Podlaskiej"  # the institution staff's
PERSON = {
    role: next(p for p in DEMO_PEOPLE if p["role"] == role)
    for role in ("caseworker", "team_member", "coordinator", "institution_staff", "analyst")
}
INSTITUTIONS: dict[str, dict[str, Any]] = {
    PCPR: {"sector": "social_assistance", "support_types": ["psychologist", "crisis_intervention"]},
    PUP: {"sector": "labour", "support_types": ["vocational_counselling", "training"]},
}


async def demo_partners(api: Api) -> dict[str, str]:
    """The two institutions on the gmina's PZK (registered once per stack), by name → id; and
    only once diagnosis has learnt the team, so that the team member may assess."""
    coordinator = api.as_(Role.COORDINATOR, gmina=GMINA)
    listed = (await api.call("GET", "referrals", "/institutions", coordinator)).json()
    ids = {i["name"]: str(i["institution_id"]) for i in listed if i["name"] in INSTITUTIONS}
    for name, kind in INSTITUTIONS.items():
        if name not in ids:
            r = await api.call(
                "POST",
                "referrals",
                "/institutions",
                coordinator,
                json={
                    "name": name,
                    **kind,
                    "gminas": [GMINA],
                    "capacity": 50,
                },
            )
            assert r.status_code == 201, r.text
            ids[name] = str(r.json()["institution_id"])
            await api.join_partnership(GMINA, ids[name])

    async def team_known() -> bool:
        # A member's own view (no gmina claim) lists the gmina's diagnoses once diagnosis knows
        # the PZK; a case opened now shows up there.
        member = api.as_(Role.TEAM_MEMBER, institution=ids[PCPR])
        r = await api.call("GET", "diagnosis", "/diagnoses", member, params={"limit": 1})
        return r.status_code == 200 and bool(r.json())

    await open_case(api, surname="Zespołowa")
    await api.eventually(team_known, what="diagnosis to learn the gmina's PZK")
    return ids


async def open_case(api: Api, *, surname: str, gmina: str = GMINA, consent: bool = True) -> str:
    """A family of the gmina, by default with consent to share within the PZK; its case id."""
    r = await api.call(
        "POST",
        "intake",
        "/cases",
        api.as_(Role.CASEWORKER, gmina=gmina),
        json={
            "gmina": gmina,
            "members": [
                {
                    "first_name": "Zofia",
                    "last_name": surname,
                    "birth_date": "1984-03-12",
                    "sex": "F",
                    "relation": "head",
                    "contact": {"phone": "+48 600 300 400"},
                },
                {
                    "first_name": "Kacper",
                    "last_name": surname,
                    "birth_date": "2014-09-01",
                    "sex": "M",
                    "relation": "child",
                },
            ],
            "reasons": ["4"],
            "notified_by": "self",
            "consent_to_share": consent,
        },
    )
    assert r.status_code == 201, r.text
    return str(r.json()["case_id"])


async def referral_to_pup(api: Api, case_id: str, partners: dict[str, str]) -> str:
    """The case's diagnosis assessed by the team and completed and its plan (IPW) agreed
    (through the APIs), and the referral referrals routes to the labour office; its id."""
    coordinator = api.as_(Role.COORDINATOR, gmina=GMINA)
    diagnosis = await api.diagnosis_of(case_id, coordinator)
    member = api.as_(Role.TEAM_MEMBER, gmina=GMINA, institution=partners[PCPR])
    url = f"/diagnoses/{diagnosis['diagnosis_id']}"
    r = await api.call(
        "POST",
        "diagnosis",
        f"{url}/assessments",
        member,
        json={
            "need_area": "employment",
            "severity": 2,
            "recommendations": [{"support_type": "vocational_counselling", "priority": 1}],
        },
    )
    assert r.status_code == 201, r.text
    r = await api.call("POST", "diagnosis", f"{url}/complete", coordinator)
    assert r.status_code == 200, r.text
    await api.agree_plan(diagnosis["diagnosis_id"], coordinator)
    return await routed_to_pup(api, case_id, partners)


async def routed_to_pup(api: Api, case_id: str, partners: dict[str, str]) -> str:
    staff = api.as_(Role.INSTITUTION_STAFF, institution=partners[PUP])

    async def routed() -> list[dict[str, Any]]:
        r = await api.call("GET", "referrals", "/referrals", staff, params={"case_id": case_id})
        return r.json() if r.status_code == 200 else []

    [referral] = await api.eventually(routed, what="the referral to the labour office")
    return str(referral["referral_id"])
