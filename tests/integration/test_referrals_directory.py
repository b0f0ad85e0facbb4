"""The institution directory: registering and changing an entry publishes it, PZK membership
comes from the partnership service's announcements, and only a coordinator of its area may
change an entry."""

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


async def test_registration_and_changes_are_published_and_pzk_membership_comes_from_partnership(
    referrals: Referrals,
) -> None:
    area = Area()
    coordinator = referrals.coordinator(area)
    gmina, other = area.gminas[0], area.gminas[1]
    await referrals.register(area, ["psychologist"], partnership=True)
    second = await referrals.register(
        area, ["psychologist", "tutoring"], capacity_by_type={"tutoring": 3}, partnership=True
    )
    [registered] = await referrals.event("institution.registered.v1", institution_id=second)
    assert registered["support_types"] == ["psychologist", "tutoring"]
    assert registered["gminas"] == [gmina]
    # referrals announces no membership any more: the partnership service does
    announced = [e for e in referrals.seen if e.routing_key == "partnership.changed.v1"]
    assert announced and all(e.source.endswith("/partnership") for e in announced)

    response = await referrals.http.patch(
        f"/api/v1/institutions/{second}",
        headers=coordinator,
        json={"name": "Poradnia Rodzinna", "gminas": [gmina, other]},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["partnership_gminas"]) == ("Poradnia Rodzinna", [gmina])
    assert body["capacity_by_type"] == {"tutoring": 3}
    [updated] = await referrals.event("institution.updated.v1", institution_id=second)
    assert (updated["name"], updated["gminas"], updated["active"]) == (
        "Poradnia Rodzinna",
        [gmina, other],
        True,
    )
    await referrals.join_partnership(other, second)
    got = await referrals.http.get(f"/api/v1/institutions/{second}", headers=coordinator)
    assert (got.json()["gminas"], got.json()["partnership_gminas"]) == (
        [gmina, other],
        [gmina, other],
    )


async def test_membership_is_no_longer_set_in_the_directory(referrals: Referrals) -> None:
    """PZK membership moved to the partnership service: setting it here is refused with where
    it went; an empty list (and on a change, the list as it stands) is let through."""
    area = Area()
    coordinator = referrals.coordinator(area)
    body = {
        "name": f"Instytucja {area.gmina}",
        "sector": "health",
        "support_types": ["psychologist"],
        "gminas": [area.gmina],
        "partnership_gminas": [area.gmina],
    }
    response = await referrals.http.post("/api/v1/institutions", headers=coordinator, json=body)
    assert response.status_code == 422, response.text
    assert (response.json()["code"], response.json()["field"]) == (
        "partnership_moved",
        "partnership_gminas",
    )
    institution = await referrals.register(area, ["psychologist"], partnership=True)
    url = f"/api/v1/institutions/{institution}"
    unchanged = await referrals.http.patch(
        url, headers=coordinator, json={"capacity": 3, "partnership_gminas": [area.gmina]}
    )
    assert unchanged.status_code == 200, unchanged.text
    moved = await referrals.http.patch(url, headers=coordinator, json={"partnership_gminas": []})
    assert moved.status_code == 422 and moved.json()["code"] == "partnership_moved"


async def test_an_older_announcement_of_the_pzk_arriving_late_changes_nothing(
    referrals: Referrals,
) -> None:
    from datetime import UTC, datetime, timedelta

    from shared.envelope import wrap
    from shared.events import PartnershipChanged

    area = Area()
    member = await referrals.register(area, ["psychologist"], partnership=True)
    stale = PartnershipChanged(gmina=area.gmina, institutions=[])
    envelope = wrap(
        stale,
        region=area.gmina[:2],
        service="partnership",
        time=datetime.now(UTC) - timedelta(hours=1),
    )
    await referrals.publish(stale, envelope=envelope)
    await referrals.publish(stale, envelope=envelope)  # and once more
    from tests.integration.conftest import eventually

    async def handled() -> bool:
        return bool(
            await referrals.db.fetchval("SELECT true FROM inbox WHERE event_id = $1", envelope.id)
        )

    await eventually(handled, what="the late announcement")
    got = await referrals.http.get(
        f"/api/v1/institutions/{member}", headers=referrals.coordinator(area)
    )
    assert got.json()["partnership_gminas"] == [area.gmina]


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


async def test_a_gminas_coordinator_changes_only_that_gminas_place_in_a_shared_entry(
    referrals: Referrals,
) -> None:
    """An institution of two gminas' PZKs: neither gmina's coordinator can narrow its area to
    their own, rename it or deactivate it."""
    area = Area()
    a, b = area.gminas[0], area.gminas[1]
    institution = await referrals.register(
        area, ["psychologist"], gminas=[a, b], partnership=True, capacity=4
    )
    url = f"/api/v1/institutions/{institution}"
    of_a = referrals.as_(Role.COORDINATOR, gmina=a)
    refused = [
        {"gminas": [a]},
        {"gminas": [a, b, area.gminas[2]]},
        {"powiats": [area.powiat]},
        {"name": "Poradnia tylko dla A"},
        {"sector": "health"},
        {"support_types": ["psychologist", "tutoring"]},
        {"capacity": 40},
        {"capacity_by_type": {"psychologist": 1}},
    ]
    for change in refused:
        response = await referrals.http.patch(url, headers=of_a, json=change)
        assert response.status_code == 403, (change, response.text)
    response = await referrals.http.post(f"{url}/deactivate", headers=of_a)
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "scope_not_covering_institution"
    got = (await referrals.http.get(url, headers=of_a)).json()
    assert (got["gminas"], got["partnership_gminas"], got["capacity"], got["active"]) == (
        [a, b], [a, b], 4, True,
    )  # fmt: skip
    assert got["name"].startswith("Instytucja")

    # A's own place: no longer serving A is A's coordinator's to change, as is sending the
    # unchanged attributes back.
    response = await referrals.http.patch(
        url,
        headers=of_a,
        json={"name": got["name"], "capacity": 4, "support_types": ["psychologist"]},
    )
    assert response.status_code == 200, response.text
    response = await referrals.http.patch(url, headers=of_a, json={"gminas": [b]})
    assert response.status_code == 200, response.text
    assert response.json()["gminas"] == [b]

    # The powiat's coordinator covers every gmina it serves: its attributes and deactivation.
    powiat = referrals.coordinator(area)
    response = await referrals.http.patch(url, headers=powiat, json={"name": "Poradnia B"})
    assert response.status_code == 200, response.text
    response = await referrals.http.post(f"{url}/deactivate", headers=powiat)
    assert response.status_code == 200 and response.json()["active"] is False, response.text


async def test_an_institution_serving_a_powiat_needs_the_powiats_coordinator(
    referrals: Referrals,
) -> None:
    area = Area()
    gmina = area.gminas[0]
    of_gmina = referrals.as_(Role.COORDINATOR, gmina=gmina)
    body = {"name": "Centrum Powiatowe", "sector": "health", "support_types": ["psychologist"],
            "gminas": [gmina], "powiats": [area.powiat]}  # fmt: skip
    response = await referrals.http.post("/api/v1/institutions", headers=of_gmina, json=body)
    assert (response.status_code, response.json()["field"]) == (403, "powiats"), response.text
    institution = await referrals.register(area, ["psychologist"], powiats=[area.powiat])
    url = f"/api/v1/institutions/{institution}"
    response = await referrals.http.patch(url, headers=of_gmina, json={"capacity": 1})
    assert response.status_code == 403, response.text
    response = await referrals.http.patch(url, headers=of_gmina, json={"powiats": []})
    assert response.status_code == 403, response.text
    response = await referrals.http.post(f"{url}/deactivate", headers=of_gmina)
    assert response.status_code == 403, response.text


async def test_a_powiat_wide_institution_is_registered_without_gminas(
    referrals: Referrals,
) -> None:
    area = Area()
    coordinator = referrals.coordinator(area)
    pcpr = {"name": "PCPR", "sector": "social_assistance", "support_types": ["crisis_intervention"],
            "powiats": [area.powiat]}  # fmt: skip
    response = await referrals.http.post("/api/v1/institutions", headers=coordinator, json=pcpr)
    assert response.status_code == 201, response.text
    institution = response.json()["institution_id"]
    [registered] = await referrals.event("institution.registered.v1", institution_id=institution)
    assert (registered["gminas"], registered["powiats"]) == ([], [area.powiat])
    got = await referrals.http.get(f"/api/v1/institutions/{institution}", headers=coordinator)
    assert (got.json()["gminas"], got.json()["powiats"]) == ([], [area.powiat])

    # A region's coordinator may register one too, with "gminas": [] said outright.
    region = referrals.as_(Role.COORDINATOR, region=area.powiat[:2])
    body = {**pcpr, "name": "PCPR filia", "gminas": []}
    response = await referrals.http.post("/api/v1/institutions", headers=region, json=body)
    assert response.status_code == 201, response.text

    # A gmina's coordinator, or another powiat's, may not: the powiat is not their scope.
    for outsider in (
        referrals.as_(Role.COORDINATOR, gmina=area.gmina),
        referrals.as_(Role.COORDINATOR, powiat=Area().powiat),
    ):
        body = {**pcpr, "name": "PCPR druga"}
        response = await referrals.http.post("/api/v1/institutions", headers=outsider, json=body)
        assert (response.status_code, response.json()["field"]) == (403, "powiats"), response.text


async def test_an_entry_serving_no_area_is_refused_naming_the_field(referrals: Referrals) -> None:
    area = Area()
    coordinator = referrals.coordinator(area)
    base = {"name": "Nigdzie", "sector": "ngo", "support_types": ["meals"]}
    for body in (base, {**base, "gminas": [], "powiats": []}, {**base, "powiats": []}):
        response = await referrals.http.post("/api/v1/institutions", headers=coordinator, json=body)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert (problem["code"], problem["field"]) == ("no_area_served", "gminas")
        assert "powiaty" in problem["detail"]

    # A change may give up the gminas for the powiat as a whole; not both.
    institution = await referrals.register(area, ["meals"])
    url = f"/api/v1/institutions/{institution}"
    response = await referrals.http.patch(url, headers=coordinator, json={"gminas": []})
    assert response.status_code == 422, response.text
    assert (response.json()["code"], response.json()["field"]) == ("no_area_served", "gminas")
    response = await referrals.http.patch(
        url, headers=coordinator, json={"gminas": [], "powiats": [area.powiat]}
    )
    assert response.status_code == 200, response.text
    assert (response.json()["gminas"], response.json()["powiats"]) == ([], [area.powiat])
    [updated] = await referrals.event("institution.updated.v1", institution_id=institution)
    assert (updated["gminas"], updated["powiats"]) == ([], [area.powiat])
    # And the powiat cannot then be dropped, leaving nothing served.
    response = await referrals.http.patch(url, headers=coordinator, json={"powiats": []})
    assert (response.status_code, response.json()["code"]) == (422, "no_area_served")


async def test_the_directorys_refusals_read_polish_for_people_and_keep_their_codes(
    referrals: Referrals,
) -> None:
    area = Area()
    coordinator = referrals.coordinator(area)
    base = {"name": "Poradnia", "sector": "ngo", "support_types": ["meals"]}
    found = []
    for places, field in (
        ({"gminas": ["0699999"]}, "gminas[0]"),
        ({"gminas": [area.gmina], "powiats": ["0699"]}, "powiats[0]"),
    ):
        response = await referrals.http.post(
            "/api/v1/institutions", headers=coordinator, json={**base, **places}
        )
        assert response.status_code == 422, response.text
        found.append(response.json())
        assert (found[-1]["code"], found[-1]["field"]) == ("unknown_teryt", field)
    institution = await referrals.register(area, ["meals"], gminas=area.gminas[:2])
    url = f"/api/v1/institutions/{institution}"
    of_gmina = referrals.as_(Role.COORDINATOR, gmina=area.gmina)
    for method, path, body, code in (
        ("PATCH", url, {"gminas": [*area.gminas[:3]]}, "out_of_scope"),
        ("PATCH", url, {"capacity": 9}, "scope_not_covering_institution"),
        ("POST", f"{url}/deactivate", None, "scope_not_covering_institution"),
    ):
        response = await referrals.http.request(method, path, headers=of_gmina, json=body)
        assert (response.status_code, response.json()["code"]) == (403, code), response.text
        found.append(response.json())
    stranger = referrals.as_(Role.COORDINATOR, powiat=Area().powiat)
    response = await referrals.http.patch(url, headers=stranger, json={"capacity": 1})
    assert (response.status_code, response.json()["code"]) == (403, "out_of_scope")
    found.append(response.json())
    details = [problem["detail"] for problem in found]
    assert "rejestrze TERC" in details[0] and "gminy" in details[0]
    assert "rejestrze TERC" in details[1] and "powiatu" in details[1]
    assert all("zakres" in detail for detail in details[2:]), details
    english = ("is not", "outside", "scope", "serves", "your", "the ")
    assert not [d for d in details if any(word in d for word in english)], details
