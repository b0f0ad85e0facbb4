"""kill -9 each service in the middle of a stream of cases: every case reaches reporting once.

The driver talks to a service only while it is up; consumers are killed while events for them
are in flight, and intake right after it accepted cases whose events may still sit in its outbox.
"""

from __future__ import annotations

from typing import Any

import pytest

from shared.auth import Role
from tests.e2e.conftest import Api, Stack

pytestmark = pytest.mark.e2e
GMINA = "0601062"  # Kodeń: no other test uses it, so its counts are this test's alone
CASES = 30


def household(i: int) -> dict[str, Any]:
    return {
        "gmina": GMINA,
        "members": [
            {
                "first_name": "Test",
                "last_name": f"Rodzina{i}",
                "birth_date": "1980-01-01",
                "sex": "F",
            }
        ],
        "reasons": ["1"],
        "notified_by": "self",
        "consent_to_share": True,
    }


async def test_killing_each_service_loses_and_duplicates_nothing(api: Api, running: Stack) -> None:
    coordinator = api.as_(Role.COORDINATOR, gmina=GMINA)
    institution = await api.register_institution(GMINA, "GOPS Kodeń", ["meals"], capacity=1000)
    caseworker = api.as_(Role.CASEWORKER, gmina=GMINA)
    team = api.as_(Role.TEAM_MEMBER, gmina=GMINA, institution=institution)

    # 1. Cases stream in while diagnosis and reporting, their consumers, are killed.
    case_ids = []
    for i in range(CASES):
        if i == CASES // 3:
            running.kill("diagnosis")
        if i == CASES // 2:
            running.kill("reporting")
        response = await api.call("POST", "intake", "/cases", caseworker, json=household(i))
        assert response.status_code == 201, response.text
        case_ids.append(response.json()["case_id"])
    running.kill("intake")  # its outbox may still hold some of the events
    running.start("intake", "diagnosis", "reporting")

    async def diagnoses() -> list[dict[str, Any]]:
        found = []
        for case_id in case_ids:
            r = await api.call("GET", "diagnosis", f"/diagnoses?case_id={case_id}", team)
            found += r.json()
        return found if len(found) >= CASES else []

    opened = await api.eventually(diagnoses, within=60, what="a diagnosis for every case")

    # 2. Diagnoses complete and plans are agreed while referrals and reporting are killed and
    # restarted.
    for i, diagnosis in enumerate(opened):
        if i == CASES // 3:
            running.kill("referrals")
        if i == CASES // 2:
            running.kill("reporting")
        path = f"/diagnoses/{diagnosis['diagnosis_id']}"
        r = await api.call(
            "POST",
            "diagnosis",
            f"{path}/assessments",
            team,
            json={
                "need_area": "finances",
                "severity": 2,
                "recommendations": [{"support_type": "meals", "priority": 1}],
            },
        )
        assert r.status_code == 201, r.text
        r = await api.call("POST", "diagnosis", f"{path}/complete", coordinator)
        assert r.status_code == 200, r.text
        await api.agree_plan(diagnosis["diagnosis_id"], coordinator)
    running.kill("diagnosis")
    running.start("referrals", "reporting", "diagnosis")

    # exact figures: the gmina's coordinator (an analyst's are perturbed)
    reader = api.as_(Role.COORDINATOR, gmina=GMINA)

    async def settled() -> dict[str, Any] | None:
        r = await api.call("GET", "reporting", "/reports/summary", reader)
        rows = [g for g in r.json()["rows"] if g["key"] == GMINA]
        row = rows[0] if rows else {"cases_opened": 0, "supports_assigned": 0}
        done = row["cases_opened"] >= CASES and row["supports_assigned"] >= CASES
        return row if done else None

    row = await api.eventually(settled, within=90, what="reporting to count every case")
    r = await api.call("GET", "referrals", f"/referrals?institution={institution}", coordinator)
    referrals = [x for x in r.json() if x["case_id"] in set(case_ids)]

    sent, arrived = CASES, row["cases_opened"]
    report = (
        f"cases sent {sent}, arrived {arrived}, duplicates {max(0, arrived - sent)}, "
        f"lost {max(0, sent - arrived)}; supports {row['supports_assigned']}, "
        f"referrals {len(referrals)}, diagnoses {len(opened)}"
    )
    print(report)
    assert (arrived, row["supports_assigned"], len(referrals), len(opened)) == (
        CASES,
        CASES,
        CASES,
        CASES,
    ), report
