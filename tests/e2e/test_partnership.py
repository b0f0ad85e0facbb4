"""The partnership through the five services: a G-PZK formed by its written agreement (the
members, the coordinator's and animator's roles, the diagnostic team reach diagnosis and
referrals by partnership.changed.v1), and a meeting of the team that agrees a family's
diagnosis and its plan, which the case's timeline then shows as decided at that meeting."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from services.web.timeline import compose
from shared.auth import Role
from shared.envelope import parse_envelope
from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e
GMINA = "1207032"  # Dobra, limanowski, małopolskie, rural: no other test uses it


def announcements(received: list[bytes], routing_key: str, **match: Any) -> list[Any]:
    found = []
    for body in received:
        if routing_key.encode() not in body:
            continue
        envelope = parse_envelope(body)
        if envelope.routing_key == routing_key and all(
            envelope.data.get(k) == v for k, v in match.items()
        ):
            found.append(envelope)
    return found


async def test_a_partnership_formed_by_agreement_whose_meeting_agrees_diagnosis_and_plan(
    api: Api, outside_subscriber: list[bytes]
) -> None:
    coordinator = api.as_(Role.COORDINATOR, gmina=GMINA)
    caseworker = api.as_(Role.CASEWORKER, gmina=GMINA)
    ops = await api.register_institution(
        GMINA, "GOPS Dobra", ["family_assistant", "meals"], partner=False
    )
    pcpr = await api.register_institution(GMINA, "PCPR Limanowa", ["psychologist"], partner=False)
    school = await api.register_institution(
        GMINA, "Szkoła Podstawowa w Dobrej", ["tutoring"], sector="education", partner=False
    )

    # The agreement, signed by the gmina, the powiat and three institutions, forms the team.
    signed_on = date.today() - timedelta(days=90)
    r = await api.call(
        "POST",
        "partnership",
        f"/partnerships/{GMINA}/agreements",
        {**coordinator, "Idempotency-Key": "agreement-dobra"},
        json={
            "signed_on": signed_on.isoformat(),
            "parties": [ops, pcpr, school],
            "documents": ["Porozumienie nr 3/2026", "Uchwała Rady Gminy nr XII/80/2026"],
        },
    )
    assert r.status_code == 201, r.text
    assert {m["institution_id"] for m in r.json()["members"]} == {ops, pcpr, school}
    for role, holder in (("coordinator", ops), ("animator", pcpr)):
        r = await api.call(
            "POST",
            "partnership",
            f"/partnerships/{GMINA}/roles",
            coordinator,
            json={"role": role, "institution_id": holder, "since": signed_on.isoformat()},
        )
        assert r.status_code == 200, r.text
    r = await api.call(
        "POST",
        "partnership",
        f"/partnerships/{GMINA}/diagnostic-team",
        coordinator,
        json={"institutions": [ops, pcpr]},
    )
    assert r.status_code == 200, r.text

    async def announced() -> Any:
        found = announcements(outside_subscriber, "partnership.changed.v1", gmina=GMINA)
        latest = max(found, key=lambda e: e.data["version"], default=None)
        return latest if latest is not None and latest.data["version"] == 4 else None

    latest = await api.eventually(announced, what="the partnership's announcement")
    assert latest.source.endswith("/partnership")
    assert sorted(latest.data["institutions"]) == sorted([ops, pcpr, school])
    assert latest.data["coordinator_institution"] == ops
    assert latest.data["animator_institution"] == pcpr
    assert sorted(latest.data["diagnostic_team"]) == sorted([ops, pcpr])

    # Referrals learns the members (routing prefers them) ...
    async def referrals_knows() -> bool:
        r = await api.call("GET", "referrals", f"/institutions/{school}", coordinator)
        return r.status_code == 200 and r.json()["partnership_gminas"] == [GMINA]

    await api.eventually(referrals_knows, what="referrals to learn the PZK")

    # ... and diagnosis: the PCPR's staff assess the family's needs as a member.
    r = await api.call(
        "POST",
        "intake",
        "/cases",
        caseworker,
        json={
            "gmina": GMINA,
            "members": [
                {"first_name": "Zofia", "last_name": "Spotkaniowa", "birth_date": "1984-02-11",
                 "sex": "F"},
            ],
            "reasons": ["2"],
            "notified_by": "school",
            "consent_to_share": True,
        },
    )  # fmt: skip
    assert r.status_code == 201, r.text
    case_id = r.json()["case_id"]
    diagnosis = await api.diagnosis_of(case_id, coordinator)
    member = api.as_(Role.TEAM_MEMBER, gmina=GMINA, institution=pcpr)

    async def assessed() -> Any:
        r = await api.call(
            "POST",
            "diagnosis",
            f"/diagnoses/{diagnosis['diagnosis_id']}/assessments",
            member,
            json={
                "need_area": "parenting",
                "severity": 2,
                "recommendations": [{"support_type": "psychologist", "priority": 1}],
            },
        )
        return r.json() if r.status_code == 201 else None

    await api.eventually(assessed, what="diagnosis to let the PCPR assess")
    r = await api.call(
        "POST", "diagnosis", f"/diagnoses/{diagnosis['diagnosis_id']}/complete", coordinator
    )
    assert r.status_code == 200, r.text
    await api.agree_plan(diagnosis["diagnosis_id"], coordinator)

    # The team's meeting: who attended, the case discussed, the diagnosis and the plan agreed.
    held_on = date.today() - timedelta(days=1)
    r = await api.call(
        "POST",
        "partnership",
        f"/partnerships/{GMINA}/meetings",
        {**coordinator, "Idempotency-Key": "meeting-dobra-1"},
        json={
            "held_on": held_on.isoformat(),
            "agenda": "1. Rodzina Spotkaniowa: diagnoza i plan",
            "minutes": "Zespół uzgodnił diagnozę i plan; psycholog PCPR od przyszłego tygodnia.",
            "attendance": [ops, pcpr, school],
            "decisions": [
                {"kind": "diagnosis_agreed", "case_id": case_id},
                {"kind": "plan_agreed", "case_id": case_id},
            ],
        },
    )
    assert r.status_code == 201, r.text
    meeting = r.json()
    assert meeting["cases"] == [case_id]

    async def held() -> Any:
        return announcements(
            outside_subscriber, "meeting.held.v1", meeting_id=meeting["meeting_id"]
        )

    [event] = await api.eventually(held, what="meeting.held.v1")
    assert (event.data["cases"], event.data["decisions"]) == ([case_id], 2)
    assert sorted(event.data["sectors"]) == ["education", "social_assistance"]
    for body in outside_subscriber:
        assert b"Spotkaniowa" not in body and b"psycholog PCPR" not in body

    # The case's timeline, composed as the case page composes it from the services' answers.
    r = await api.call("GET", "intake", f"/cases/{case_id}/overview", caseworker)
    assert r.status_code == 200, r.text
    overview = r.json()
    r = await api.call("GET", "diagnosis", f"/cases/{case_id}/diagnosis", caseworker)
    case_diagnosis = r.json()
    r = await api.call("GET", "referrals", f"/cases/{case_id}/referrals", caseworker)
    referrals = r.json()
    r = await api.call("GET", "partnership", f"/cases/{case_id}/decisions", caseworker)
    assert r.status_code == 200, r.text
    decisions = r.json()
    entries = compose(overview, case_diagnosis, referrals, decisions)
    decided = [e for e in entries if e.kind == "meeting"]
    assert [e.title for e in decided] == ["Zespół uzgodnił diagnozę", "Zespół uzgodnił plan (IPW)"]
    day = held_on.strftime("%d.%m.%Y")
    assert all(f"Ustalono na spotkaniu zespołu PZK z dnia {day}" in e.details for e in decided)
