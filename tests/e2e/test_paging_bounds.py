"""Every integer parameter of every GET in the four OpenAPI documents is bounded: a number past
any int64 is refused with a 422 naming it, never a 500 (the probe's offset=9223372036854775808).
Read from the documents at run time, so a new paged route is covered without an entry here."""

from __future__ import annotations

import pytest

from shared.auth import Role
from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e
GMINA = "0601011"
SERVICES = ("intake", "diagnosis", "referrals", "reporting", "notifications")
HUGE = "9223372036854775808"


async def test_no_integer_parameter_overflows(api: Api) -> None:
    who = {
        "intake": api.as_(Role.COORDINATOR, gmina=GMINA),
        "diagnosis": api.as_(Role.COORDINATOR, gmina=GMINA),
        "referrals": api.as_(Role.COORDINATOR, gmina=GMINA),
        "reporting": api.as_(Role.ANALYST, region=GMINA[:2]),
        "notifications": api.as_(Role.COORDINATOR, gmina=GMINA),
    }
    tried, wrong = 0, []
    for service in SERVICES:
        r = await api.http.get(f"{api.settings.base_url(service)}/api/v1/openapi.json")
        for path, operations in r.json()["paths"].items():
            get = operations.get("get")
            if get is None or "{" in path or not path.startswith("/api/v1/"):
                continue
            for param in get.get("parameters", []):
                schemas = param["schema"].get("anyOf", [param["schema"]])
                if param["in"] != "query" or not any(s.get("type") == "integer" for s in schemas):
                    continue
                tried += 1
                url = f"{api.settings.base_url(service)}{path}"
                for value in (HUGE, f"-{HUGE}"):
                    query = {param["name"]: value}
                    r = await api.http.get(url, params=query, headers=who[service])
                    if r.status_code != 422 or r.json().get("field") != param["name"]:
                        wrong.append(f"{service} {path}?{param['name']}={value}: {r.status_code}")
    assert tried >= 4, "the paged lists (cases, diagnoses, referrals, overdue) were not found"
    assert not wrong, "\n".join(wrong)
