"""A case's whole life through the four services, reopening included: opened with consent,
diagnosed, in support, closed partly done; reopened, its diagnosis reviewed, a new support
accepted, in support again, closed successfully. A gmina's coordinator reads the reports at
every step and sees exact figures."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from shared.auth import Role
from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e
GMINA = "1810052"  # Markowa, łańcucki, podkarpackie, rural: no other test uses it


class Case:
    """One family's case as the people around it drive it."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.caseworker = api.as_(Role.CASEWORKER, gmina=GMINA)
        self.coordinator = api.as_(Role.COORDINATOR, gmina=GMINA)
        self.case_id = ""

    async def open(self) -> None:
        mother = {
            "first_name": "Bożena", "last_name": "Wznowiona", "birth_date": "1984-03-12",
            "sex": "F",
        }  # fmt: skip
        self.case_id = await self.api.open_case(GMINA, mother, reasons=["4"], notified_by="self")

    async def step(self, path: str, **body: Any) -> str:
        response = await self.api.call(
            "POST", "intake", f"/cases/{self.case_id}/{path}", self.caseworker, json=body or None
        )
        assert response.status_code == 200, response.text
        return str(response.json()["status"])

    async def status(self) -> str:
        return str((await self.record())["status"])

    async def record(self) -> dict[str, Any]:
        response = await self.api.call(
            "GET",
            "intake",
            f"/cases/{self.case_id}",
            {**self.caseworker, "X-Access-Reason": "monitoring"},
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def becomes(self, status: str) -> None:
        async def reached() -> bool:
            return await self.status() == status

        await self.api.eventually(reached, what=f"the case to be {status}")

    async def diagnosis(self) -> dict[str, Any]:
        return await self.api.diagnosis_of(self.case_id, self.coordinator)

    async def assess(self, diagnosis_id: str, need: str, support: str) -> str:
        response = await self.api.call(
            "POST",
            "diagnosis",
            f"/diagnoses/{diagnosis_id}/assessments",
            self.coordinator,
            json={
                "need_area": need,
                "severity": 2,
                "recommendations": [{"support_type": support, "priority": 1}],
            },
        )
        assert response.status_code == 201, response.text
        [recommendation] = response.json()["recommendations"]
        return str(recommendation)

    async def complete(self, diagnosis_id: str) -> dict[str, Any]:
        response = await self.api.call(
            "POST", "diagnosis", f"/diagnoses/{diagnosis_id}/complete", self.coordinator
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def revise_plan(self, diagnosis_id: str, area: str, supports: list[str]) -> None:
        """The plan of the new round, agreed with the family after the review: one goal."""
        today = date.today()
        body = {
            "revised_on": today.isoformat(),
            "goals": [
                {
                    "area": area,
                    "supports": supports,
                    "due_on": (today + timedelta(days=120)).isoformat(),
                    "review_on": (today + timedelta(days=60)).isoformat(),
                }
            ],
        }
        response = await self.api.call(
            "POST",
            "diagnosis",
            f"/diagnoses/{diagnosis_id}/plan/revisions",
            self.coordinator,
            json=body,
        )
        assert response.status_code == 200, response.text

    async def referral(self, staff: dict[str, str], support: str) -> dict[str, Any]:
        async def assigned() -> list[dict[str, Any]]:
            r = await self.api.call("GET", "referrals", "/referrals?state=assigned", staff)
            return [
                x for x in r.json() if x["case_id"] == self.case_id and x["support_type"] == support
            ]

        [found] = await self.api.eventually(assigned, what=f"a referral for {support}")
        return dict(found)

    async def answer(self, staff: dict[str, str], referral: dict[str, Any], how: str) -> None:
        body = {"outcome": "achieved"} if how == "complete" else None
        response = await self.api.call(
            "POST", "referrals", f"/referrals/{referral['referral_id']}/{how}", staff, json=body
        )
        assert response.status_code == 200, response.text

    async def figures(self) -> dict[str, int]:
        """What the gmina's coordinator reads (full figures): the gmina's row of the `cases`
        table and its indicators of closings."""
        response = await self.api.call(
            "GET", "reporting", "/reports/cases", self.coordinator, params={"gmina": GMINA}
        )
        assert response.status_code == 200, response.text
        [row] = response.json()["rows"]
        cells = {k: v for k, v in row["cells"].items() if v}
        response = await self.api.call(
            "GET", "reporting", "/reports/indicators", self.coordinator, params={"gmina": GMINA}
        )
        assert response.status_code == 200, response.text
        [indicators] = response.json()["rows"]
        closings = ("cases_opened", "cases_closed", "completed_successfully")
        return {**cells, **{f"indicators.{k}": indicators[k] for k in closings}}

    async def reported(self, cases: dict[str, int], opened: int, closed: int, success: int) -> None:
        """Reporting comes to exactly these figures (it follows the events a moment later):
        the non-zero cells of the `cases` row, and the indicators of closings."""
        expected = {
            **cases,
            "indicators.cases_opened": opened,
            "indicators.cases_closed": closed,
            "indicators.completed_successfully": success,
        }
        seen: list[dict[str, int]] = []

        async def matches() -> bool:
            seen.append(await self.figures())
            return seen[-1] == expected

        try:
            await self.api.eventually(matches, what="the reports")
        except AssertionError:
            assert seen[-1] == expected  # shows what the coordinator read instead
            raise


async def test_a_reopened_case_is_diagnosed_again_supported_and_closed_with_its_last_outcome(
    api: Api,
) -> None:
    gops = await api.register_institution(GMINA, "GOPS Markowa", ["family_assistant"])
    pup = await api.register_institution(
        GMINA, "PUP Łańcut", ["vocational_counselling"], sector="labour", partner=False
    )
    gops_staff = api.as_(Role.INSTITUTION_STAFF, institution=gops)
    pup_staff = api.as_(Role.INSTITUTION_STAFF, institution=pup)
    case = Case(api)

    # Opened with consent: before the PZK at once.
    await case.open()
    assert await case.status() == "in_diagnosis"
    await case.reported({"open": 1}, opened=1, closed=0, success=0)

    # The first round: diagnosed, the plan starts, the family assistant is accepted.
    diagnosis = await case.diagnosis()
    did = diagnosis["diagnosis_id"]
    assert (diagnosis["status"], diagnosis["round"]) == ("open", 1)
    await case.assess(did, "parenting", "family_assistant")
    assert (await case.complete(did))["revision"] == 1
    await api.agree_plan(did, case.coordinator)  # the family agrees to its plan
    await case.becomes("in_support")
    assistant = await case.referral(gops_staff, "family_assistant")
    await case.answer(gops_staff, assistant, "accept")

    # Closed, partly done: the open support is cancelled.
    assert await case.step("close", outcome="completed_partly") == "closed"
    await case.reported({"completed_partly": 1}, opened=1, closed=1, success=0)

    async def cancelled() -> bool:
        r = await api.call("GET", "referrals", f"/referrals/{assistant['referral_id']}", gops_staff)
        return r.json()["state"] == "cancelled"

    await api.eventually(cancelled, what="the open support to be cancelled")

    # Reopened: a new round; the case is before the PZK again and its diagnosis open for review.
    assert await case.step("reopen") == "in_diagnosis"
    assert await case.step("send-to-diagnosis") == "in_diagnosis"  # there already: no error
    await case.reported({"open": 1}, opened=1, closed=0, success=0)

    async def in_review() -> dict[str, Any] | None:
        found = await case.diagnosis()
        return found if found["status"] == "open" else None

    review = await api.eventually(in_review, what="the diagnosis to open for review")
    assert (review["diagnosis_id"], review["round"]) == (did, 2)
    response = await api.call("GET", "diagnosis", f"/diagnoses/{did}", case.coordinator)
    assert response.json()["in_review"] is True

    # The review adds a need and its support; concluding it is the next revision; the plan
    # revised with the family takes the new support in (and leaves the first round's out).
    counselling_id = await case.assess(did, "employment", "vocational_counselling")
    concluded = await case.complete(did)
    assert (concluded["round"], concluded["revision"]) == (2, 2)
    await case.revise_plan(did, "employment", [counselling_id])
    counselling = await case.referral(pup_staff, "vocational_counselling")
    assert counselling["recommendation_id"] == counselling_id
    await case.answer(pup_staff, counselling, "accept")
    await case.becomes("in_support")
    await case.reported({"open": 1}, opened=1, closed=0, success=0)
    await case.answer(pup_staff, counselling, "complete")

    # Closed again, successfully: the last closing's outcome is the case's.
    assert await case.step("close", outcome="completed_successfully") == "closed"
    await case.reported({"completed_successfully": 1}, opened=1, closed=1, success=1)
    steps = [(h["step"], h["to_status"]) for h in (await case.record())["history"]]
    assert steps == [
        ("open", "opened"),
        ("send_to_diagnosis", "in_diagnosis"),
        ("start_support", "in_support"),
        ("close", "closed"),
        ("reopen", "reopened"),
        ("send_to_diagnosis", "in_diagnosis"),
        ("start_support", "in_support"),
        ("close", "closed"),
    ]
    # Nothing of the first round was routed again.
    response = await api.call(
        "GET", "referrals", f"/referrals?case_id={case.case_id}", case.coordinator
    )
    assert sorted((r["support_type"], r["state"]) for r in response.json()) == [
        ("family_assistant", "cancelled"),
        ("vocational_counselling", "completed"),
    ]
