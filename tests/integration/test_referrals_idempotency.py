"""Referrals honours Idempotency-Key on every POST: a retry, sequential or at the same moment,
answers what the first answered and has no second effect; and an institution is not registered
twice under one name in one gmina unless a second one is meant."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID, uuid4

import pytest

from shared.auth import Role
from tests.integration.referrals_harness import (  # noqa: F401  (fixtures)
    Area,
    Referrals,
    referrals_fixture,
    referrals_process_fixture,
)

pytestmark = pytest.mark.integration


def _institution(area: Area, name: str, **more: Any) -> dict[str, Any]:
    return {"name": name, "sector": "ngo", "support_types": ["meals"], "gminas": [area.gmina],
            **more}  # fmt: skip


async def _named(referrals: Referrals, name: str) -> list[UUID]:
    rows = await referrals.db.fetch("SELECT institution_id FROM institutions WHERE name = $1", name)
    return [r["institution_id"] for r in rows]


async def test_a_registration_retried_with_its_key_registers_one_institution(
    referrals: Referrals,
) -> None:
    area = Area()
    coordinator = referrals.coordinator(area)
    name = f"Bank Żywności {uuid4().hex[:6]}"
    body = _institution(area, name)
    key = {**coordinator, "Idempotency-Key": str(uuid4())}
    first = await referrals.http.post("/api/v1/institutions", headers=key, json=body)
    again = await referrals.http.post("/api/v1/institutions", headers=key, json=body)
    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert again.json() == first.json()
    assert await _named(referrals, name) == [UUID(first.json()["institution_id"])]
    other = await referrals.http.post(
        "/api/v1/institutions", headers=key, json={**body, "capacity": 3}
    )
    assert other.status_code == 422 and other.json()["field"] == "Idempotency-Key", other.text

    # The same key sent twice at the same moment: one waits for the other's answer.
    concurrent_name = f"Jadłodajnia {uuid4().hex[:6]}"
    key = {**coordinator, "Idempotency-Key": str(uuid4())}
    both = await asyncio.gather(
        *(
            referrals.http.post(
                "/api/v1/institutions", headers=key, json=_institution(area, concurrent_name)
            )
            for _ in range(2)
        )
    )
    assert [r.status_code for r in both] == [201, 201], [r.text for r in both]
    assert both[0].json() == both[1].json()
    assert len(await _named(referrals, concurrent_name)) == 1
    registered = referrals.events("institution.registered.v1", name=concurrent_name)
    assert len(registered) <= 1


async def test_answers_to_referrals_and_deactivation_are_replayed_not_repeated(
    referrals: Referrals,
) -> None:
    area = Area()
    institution = await referrals.register(area, ["psychologist"])
    event = await referrals.agree_plan(area, "psychologist")
    [referral] = await referrals.routed(event.case_id, 1)
    url = f"/api/v1/referrals/{referral['referral_id']}"
    key = {**referrals.staff(institution), "Idempotency-Key": str(uuid4())}
    first = await referrals.http.post(f"{url}/accept", headers=key)
    again = await referrals.http.post(f"{url}/accept", headers=key)
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert again.json() == first.json() and first.json()["state"] == "accepted"
    # The answer is the referral as GET shows it (both documented as ReferralOut).
    read = await referrals.http.get(url, headers=referrals.staff(institution))
    assert first.json() == read.json() and first.json()["round"] == 1
    unkeyed = await referrals.http.post(f"{url}/accept", headers=referrals.staff(institution))
    assert unkeyed.status_code == 409, unkeyed.text

    # The same staff subject, key and referral, from another institution: no replay, 404.
    stranger = referrals.staff(uuid4())
    r = await referrals.http.post(f"{url}/accept", headers={**stranger, **{
        "Idempotency-Key": key["Idempotency-Key"]}})  # fmt: skip
    assert r.status_code == 404, r.text

    done = {"outcome": "achieved"}
    key = {**referrals.staff(institution), "Idempotency-Key": str(uuid4())}
    answers = [await referrals.http.post(f"{url}/complete", headers=key, json=done)
               for _ in range(2)]  # fmt: skip
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert len(referrals.events("support.completed.v1", referral_id=referral["referral_id"])) <= 1

    key = {**referrals.coordinator(area), "Idempotency-Key": str(uuid4())}
    deactivate = f"/api/v1/institutions/{institution}/deactivate"
    answers = [await referrals.http.post(deactivate, headers=key) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert answers[0].json() == answers[1].json() and answers[0].json()["active"] is False
    read = await referrals.http.get(f"/api/v1/institutions/{institution}", headers=key)
    assert answers[0].json() == read.json()
    # Another coordinator of the gmina only, with the same subject and key: not its to replay.
    of_gmina = referrals.as_(Role.COORDINATOR, gmina=area.gmina)
    shared = await referrals.register(area, ["meals"], gminas=[area.gminas[0], area.gminas[1]])
    deactivate = f"/api/v1/institutions/{shared}/deactivate"
    powiat_key = {**referrals.coordinator(area), "Idempotency-Key": "wspolny-klucz"}
    assert (await referrals.http.post(deactivate, headers=powiat_key)).status_code == 200
    r = await referrals.http.post(
        deactivate, headers={**of_gmina, "Idempotency-Key": "wspolny-klucz"}
    )
    assert r.status_code == 403, r.text


async def test_a_second_institution_of_one_name_in_a_gmina_must_be_meant(
    referrals: Referrals,
) -> None:
    area = Area()
    coordinator = referrals.coordinator(area)
    name = f"Klub Seniora {uuid4().hex[:6]}"
    first = await referrals.http.post(
        "/api/v1/institutions", headers=coordinator, json=_institution(area, name)
    )
    assert first.status_code == 201, first.text
    for spelled in (name, f"  {name.upper()} ", name.replace(" ", "  ")):
        again = await referrals.http.post(
            "/api/v1/institutions", headers=coordinator, json=_institution(area, spelled)
        )
        assert again.status_code == 409, again.text
        assert (again.json()["code"], again.json()["field"]) == ("institution_name_taken", "name")
        assert first.json()["institution_id"] in again.json()["detail"]
    assert len(await _named(referrals, name)) == 1

    # Elsewhere the name is free; here a second one is registered when the request says so.
    elsewhere = Area()
    r = await referrals.http.post(
        "/api/v1/institutions",
        headers=referrals.coordinator(elsewhere),
        json=_institution(elsewhere, name),
    )
    assert r.status_code == 201, r.text
    meant = _institution(area, name, another_of_the_same_name=True)
    r = await referrals.http.post("/api/v1/institutions", headers=coordinator, json=meant)
    assert r.status_code == 201, r.text
    assert len(await _named(referrals, name)) == 3

    # A rename or a wider area that meets a namesake is refused the same way.
    other = await referrals.register(area, ["meals"], gminas=[area.gminas[1]])
    url = f"/api/v1/institutions/{other}"
    r = await referrals.http.patch(url, headers=coordinator, json={"name": name.lower()})
    assert r.status_code == 200, r.text  # another gmina: no namesake there
    r = await referrals.http.patch(
        url, headers=coordinator, json={"gminas": [area.gminas[1], area.gmina]}
    )
    assert r.status_code == 409, r.text
    r = await referrals.http.patch(
        url,
        headers=coordinator,
        json={"gminas": [area.gminas[1], area.gmina], "another_of_the_same_name": True},
    )
    assert r.status_code == 200, r.text
