"""The case file through the running stack: a caseworker finds a family by a surname with
diacritics typed without them, corrects its household, and reporting's household figures
follow the correction."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from shared.auth import Role
from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e

GMINA = "2801032"  # Bartoszyce, rural (warmińsko-mazurskie): no other test uses it
HOUSEHOLDS = "2801052"  # Górowo Iławeckie, rural: its figures are the household test's alone
REASON = {"reason": "aktualizacja akt"}


def person(first: str, last: str, born: str, sex: str, relation: str = "head") -> dict:
    return {"first_name": first, "last_name": last, "birth_date": born, "sex": sex,
            "relation": relation}  # fmt: skip


async def test_a_family_is_found_by_a_surname_typed_without_diacritics(api: Api) -> None:
    caseworker = api.as_(Role.CASEWORKER, gmina=GMINA)
    r = await api.call("POST", "intake", "/cases", caseworker, json={
        "gmina": GMINA, "members": [person("Łucja", "Żółkiewska", "1983-04-09", "F")],
        "reasons": ["13"], "notified_by": "health", "consent_to_share": False,
    })  # fmt: skip
    assert r.status_code == 201, r.text
    case = r.json()["case_id"]

    terms = {"surname": "Zolkiewska", "reason": "rodzina zgłosiła się"}
    found = await api.call("POST", "intake", "/cases/search", caseworker, json=terms)
    assert found.status_code == 200, found.text
    assert "Zolkiewska" not in str(found.request.url)
    [hit] = found.json()["cases"]
    assert hit["case_id"] == case
    assert [(p["first_name"], p["last_name"]) for p in hit["persons"]] == [("Łucja", "Żółkiewska")]

    audit = await api.call("GET", "intake", "/audit", api.as_(Role.COORDINATOR, gmina=GMINA),
                           params={"case_id": case})  # fmt: skip
    assert [(e["access"], e["purpose"]) for e in audit.json()] == [
        ("search_by_surname", "rodzina zgłosiła się"),
        ("opened", "założenie sprawy"),  # newest first
    ]


async def test_a_corrected_household_is_followed_by_reportings_household_figures(
    api: Api,
) -> None:
    caseworker = api.as_(Role.CASEWORKER, gmina=HOUSEHOLDS)
    coordinator = api.as_(Role.COORDINATOR, gmina=HOUSEHOLDS)
    r = await api.call("POST", "intake", "/cases", caseworker, json={
        "gmina": HOUSEHOLDS,
        "members": [person("Grażyna", "Korekta", "1970-01-15", "F"),
                    person("Oskar", "Korekta", "2012-03-03", "M", "child")],
        "reasons": ["1"], "notified_by": "school", "consent_to_share": False,
    })  # fmt: skip
    assert r.status_code == 201, r.text
    case = r.json()["case_id"]

    async def figures(**expected: Any) -> dict[str, Any] | None:
        households = await api.call("GET", "reporting", "/reports/households", coordinator,
                                    params={"gmina": HOUSEHOLDS})  # fmt: skip
        ages = await api.call("GET", "reporting", "/reports/age_bands", coordinator,
                              params={"gmina": HOUSEHOLDS})  # fmt: skip
        if households.status_code != 200 or not households.json()["rows"]:
            return None
        sizes = households.json()["rows"][0]["cells"]
        bands = ages.json()["rows"][0]["cells"]
        seen = {"sizes": {k: v for k, v in sizes.items() if v},
                "bands": {k: v for k, v in bands.items() if v}}  # fmt: skip
        return seen if seen == expected else None

    opened = {"sizes": {"2": 1}, "bands": {"45-59": 1, "6-17": 1}}
    assert await api.eventually(lambda: figures(**opened), what="the opening counted")

    wiktor = person("Wiktor", "Korekta", "2022-06-06", "M", "child")
    added = await api.call("POST", "intake", f"/cases/{case}/members", caseworker, json=wiktor)
    assert added.status_code == 201 and added.json()["counted"], added.text
    grown = {"sizes": {"3": 1}, "bands": {"45-59": 1, "6-17": 1, "0-5": 1}}
    assert await api.eventually(lambda: figures(**grown), what="the new member counted")

    record = await api.call("GET", "intake", f"/cases/{case}", caseworker, params=REASON)
    [oskar] = [m["person_id"] for m in record.json()["members"] if m["first_name"] == "Oskar"]
    corrected = await api.call("PATCH", "intake", f"/cases/{case}/members/{oskar}", caseworker,
                               json={"birth_date": "2004-03-03"})  # fmt: skip
    assert corrected.status_code == 200 and corrected.json()["counted"], corrected.text
    older = {"sizes": {"3": 1}, "bands": {"45-59": 1, "18-29": 1, "0-5": 1}}
    assert await api.eventually(lambda: figures(**older), what="the corrected birth date")

    left = await api.call("POST", "intake", f"/cases/{case}/members/{oskar}/left", caseworker,
                          json={"left_on": date.today().isoformat()})  # fmt: skip
    assert left.status_code == 200, left.text
    smaller = {"sizes": {"2": 1}, "bands": {"45-59": 1, "0-5": 1}}
    assert await api.eventually(lambda: figures(**smaller), what="the member who left")
