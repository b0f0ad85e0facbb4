"""The institution directory: registering and changing an entry publishes it, PZK membership
changes publish the gmina's full member list, and only a coordinator of its area may change it."""

from __future__ import annotations

import pytest

from shared.auth import Role
from tests.integration.referrals_harness import (  # noqa: F401  (fixtures)
    Area,
    Referrals,
    referrals_fixture,
    referrals_process_fixture,
)

pytestmark = pytest.mark.integration


async def test_registration_and_changes_are_published_with_partnerships(
    referrals: Referrals,
) -> None:
    area = Area()
    coordinator = referrals.coordinator(area)
    gmina, other = area.gminas[0], area.gminas[1]
    first = await referrals.register(area, ["psychologist"], partnership=True)
    second = await referrals.register(
        area, ["psychologist", "tutoring"], capacity_by_type={"tutoring": 3}, partnership=True
    )
    [registered] = await referrals.event("institution.registered.v1", institution_id=second)
    assert registered["support_types"] == ["psychologist", "tutoring"]
    assert registered["gminas"] == [gmina]
    members = await referrals.event("partnership.changed.v1", 2, gmina=gmina)
    assert sorted(members[-1]["institutions"]) == sorted([str(first), str(second)])

    response = await referrals.http.patch(
        f"/api/v1/institutions/{second}",
        headers=coordinator,
        json={"name": "Poradnia Rodzinna", "gminas": [gmina, other], "partnership_gminas": [other]},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["partnership_gminas"]) == ("Poradnia Rodzinna", [other])
    assert body["capacity_by_type"] == {"tutoring": 3}
    [updated] = await referrals.event("institution.updated.v1", institution_id=second)
    assert (updated["name"], updated["gminas"], updated["active"]) == (
        "Poradnia Rodzinna",
        [gmina, other],
        True,
    )
    members = await referrals.event("partnership.changed.v1", 3, gmina=gmina)
    assert members[-1]["institutions"] == [str(first)]
    [joined] = await referrals.event("partnership.changed.v1", gmina=other)
    assert joined["institutions"] == [str(second)]

    got = await referrals.http.get(f"/api/v1/institutions/{second}", headers=coordinator)
    assert got.json()["gminas"] == [gmina, other]


async def test_only_a_coordinator_of_the_area_changes_an_entry(referrals: Referrals) -> None:
    area = Area()
    institution = await referrals.register(area, ["meals"], capacity=4)
    stranger = referrals.as_(Role.COORDINATOR, powiat=Area().powiat)
    staff = referrals.staff(institution)
    url = f"/api/v1/institutions/{institution}"
    assert (
        await referrals.http.patch(url, headers=stranger, json={"capacity": 1})
    ).status_code == 403
    assert (await referrals.http.patch(url, headers=staff, json={"capacity": 1})).status_code == 403
    assert (await referrals.http.post(f"{url}/deactivate", headers=stranger)).status_code == 403
    # a gmina outside the caller's scope cannot be added either
    response = await referrals.http.patch(
        url,
        headers=referrals.as_(Role.COORDINATOR, gmina=area.gmina),
        json={"gminas": [area.gmina, area.gminas[1]]},
    )
    assert response.status_code == 403
    got = (await referrals.http.get(url, headers=staff)).json()
    assert (got["capacity"], got["gminas"], got["active"]) == (4, [area.gmina], True)
