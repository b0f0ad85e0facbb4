"""Intake on the real database and broker: opening, duplicates, idempotency, lifecycle, search,
access grants learnt from events, and the audit of every read of personal data."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from aio_pika.abc import AbstractRobustConnection

from kooperacja.demo_data import pesel_for
from services.intake.app import spec as intake_spec
from shared.auth import Role
from shared.db import create_pool
from shared.events import (
    DiagnosisCompleted,
    Need,
    Place,
    PlanAgreed,
    PlanGoal,
    PlannedSupport,
    PlanRevised,
    Recommendation,
    ReferralAccepted,
    SupportCancelled,
    SupportCompleted,
)
from shared.idempotency import KEEP_ANSWERS, forget_answers
from shared.settings import Settings
from shared.teryt import terc
from tests.integration.conftest import eventually
from tests.integration.service_under_test import (
    EventTap,
    Gminas,
    Service,
    publish,
    running,
    tapped,
)

pytestmark = pytest.mark.integration
GMINAS = Gminas("14")
SERIALS = itertools.count(1)
HEAD_BIRTH = date(1984, 5, 17)
REASON = {"X-Access-Reason": "wizyta w domu rodziny"}


@pytest.fixture(scope="module")
async def intake(settings: Settings) -> AsyncIterator[Service]:
    async with running(intake_spec, "intakeit", 10, settings) as service:
        yield service


@pytest.fixture(scope="module")
async def tap(amqp: AbstractRobustConnection, settings: Settings) -> AsyncIterator[EventTap]:
    async with tapped(amqp, settings) as events:
        yield events


@pytest.fixture(scope="module")
async def intake_db(settings: Settings, intake: Service) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(settings.database_url("intakeit"))
    yield pool
    await pool.close()


def new_pesel() -> str:
    return pesel_for(HEAD_BIRTH, "F", next(SERIALS))


def household(gmina: str, *, pesel: str | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "gmina": gmina,
        "members": [
            {
                "first_name": "Bożena",
                "last_name": "Wróblewska",
                "birth_date": HEAD_BIRTH.isoformat(),
                "sex": "F",
                "pesel": pesel or new_pesel(),
                "contact": {"phone": "+48 601 234 567", "address": "ul. Polna 3, Mrozy"},
            },
            {
                "first_name": "Kacper",
                "last_name": "Wróblewski",
                "birth_date": "2012-09-30",
                "sex": "M",
                "relation": "child",
            },
        ],
        "reasons": ["4", "9"],
        "notified_by": "school",
        "consent_to_share": True,
        "interview_summary": "Rodzina mieszka w jednym pokoju, ojciec wyjechał za granicę.",
        **fields,
    }


def place_of(gmina: str) -> Place:
    return terc().gmina(gmina).place


async def open_case(intake: Service, gmina: str, **fields: Any) -> dict[str, Any]:
    response = await intake.call(
        "POST", "/cases", intake.as_(Role.CASEWORKER, gmina=gmina), json=household(gmina, **fields)
    )
    assert response.status_code == 201, response.text
    return response.json()


async def cases_in(intake: Service, gmina: str, **query: str) -> list[dict[str, Any]]:
    response = await intake.call(
        "GET", "/cases", intake.as_(Role.CASEWORKER, gmina=gmina), params=query
    )
    assert response.status_code == 200, response.text
    return response.json()


def assert_problem(response: Any, status: int, field: str, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["field"] == field, problem
    assert problem["title"] and problem["detail"]
    if code:
        assert problem["code"] == code, problem


async def test_opened_case_keeps_the_household_and_publishes_codes_only(
    intake: Service, tap: EventTap
) -> None:
    gmina = GMINAS.fresh()
    pesel = new_pesel()
    body = household(gmina, pesel=pesel, consent={"given_on": "2026-01-05", "scope": []})
    body.pop("consent_to_share")
    response = await intake.call(
        "POST", "/cases", intake.as_(Role.CASEWORKER, gmina=gmina), json=body
    )
    assert response.status_code == 201, response.text
    opened = response.json()
    # With consent the case goes to the partner team's diagnosis at once.
    assert opened["status"] == "in_diagnosis"

    [envelope] = await tap.wait_for(opened["case_id"], "case.opened.v1")
    data = envelope.data
    assert data["household_size"] == 2
    assert data["reasons"] == ["4", "9"]
    assert (data["consent_to_share"], data["consent_scope"]) == (True, [])
    assert data["place"] == place_of(gmina).model_dump(mode="json")
    assert sum(data["age_bands"].values()) == 2
    raw = envelope.to_bytes().decode()
    for personal in ("Bożena", "Wróblewsk", pesel, "1984-05-17", "601 234", "Polna", "pokoju"):
        assert personal not in raw

    response = await intake.call(
        "GET",
        f"/cases/{opened['case_id']}",
        intake.as_(Role.CASEWORKER, gmina=gmina),
        headers=REASON,
    )
    assert response.status_code == 200, response.text
    case = response.json()
    assert [m["first_name"] for m in case["members"]] == ["Bożena", "Kacper"]
    assert case["members"][0]["pesel"] == pesel
    assert case["members"][0]["contact"]["phone"] == "+48 601 234 567"
    assert case["consent"] == {"given_on": "2026-01-05", "scope": []}
    assert case["interview_summary"].startswith("Rodzina mieszka")
    assert [h["step"] for h in case["history"]] == ["open", "send_to_diagnosis"]


BAD_INPUT = [
    ("wrong PESEL checksum", {"members": [{"pesel": "84051712340"}]}, "members[0].pesel"),
    (
        "PESEL not matching the date of birth",
        {"members": [{"pesel": pesel_for(date(1984, 5, 18), "F", 7)}]},
        "members[0].pesel",
    ),
    (
        "PESEL not matching the sex",
        {"members": [{"pesel": pesel_for(HEAD_BIRTH, "M", 7)}]},
        "members[0].pesel",
    ),
    ("unknown TERYT gmina", {"gmina": "1499999"}, "gmina"),
    ("unknown art. 7 reason", {"reasons": ["16"]}, "reasons[0]"),
    ("repealed art. 7 point 10", {"reasons": ["1", "10"]}, "reasons[1]"),
    ("unknown notifying sector", {"notified_by": "neighbour"}, "notified_by"),
    ("birth date in the future", {"members": [{"birth_date": "2099-01-01"}]}, "members[0]"),
    ("no members", {"members": []}, "members"),
    (
        "contradictory consent",
        {"consent": {"given_on": "2026-01-05"}, "consent_to_share": False},
        "consent_to_share",
    ),
    ("no word on consent", {"consent_to_share": None}, "consent_to_share"),
    ("bad phone", {"members": [{"contact": {"phone": "call me"}}]}, "members[0].contact.phone"),
]


async def test_repealed_point_10_is_refused_with_a_problem_saying_so(intake: Service) -> None:
    gmina = GMINAS.fresh()
    caseworker = intake.as_(Role.CASEWORKER, gmina=gmina)
    body = {**household(gmina), "reasons": ["10"]}
    response = await intake.call("POST", "/cases", caseworker, json=body)
    assert_problem(response, 422, "reasons[0]", "validation_failed")
    assert "pkt 10" in response.json()["detail"] and "uchylony" in response.json()["detail"]
    assert response.json()["errors"][0]["type"] == "reason_repealed"
    listed = await intake.call("GET", "/cases", caseworker, params={"reason": "10"})
    assert_problem(listed, 422, "reason", "validation_failed")


@pytest.mark.parametrize(("what", "change", "field"), BAD_INPUT, ids=[b[0] for b in BAD_INPUT])
async def test_bad_input_is_refused_naming_the_field_and_changes_nothing(
    intake: Service, what: str, change: dict[str, Any], field: str
) -> None:
    gmina = GMINAS.fresh()
    body = household(gmina)
    for key, value in change.items():
        if key == "members" and value:
            body["members"][0] = {**body["members"][0], **value[0]}
        elif value is None:
            body.pop(key)
        else:
            body[key] = value
    caseworker = intake.as_(Role.CASEWORKER, gmina=gmina)
    response = await intake.call("POST", "/cases", caseworker, json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"].startswith(field), response.json()
    assert await cases_in(intake, gmina) == []


async def test_second_open_case_for_the_same_pesel_in_a_gmina_is_refused_naming_the_first(
    intake: Service,
) -> None:
    gmina = GMINAS.fresh()
    pesel = new_pesel()
    first = await open_case(intake, gmina, pesel=pesel)
    caseworker = intake.as_(Role.CASEWORKER, gmina=gmina)

    response = await intake.call("POST", "/cases", caseworker, json=household(gmina, pesel=pesel))
    assert_problem(response, 409, "members[0].pesel", "duplicate_case")
    assert first["case_id"] in response.json()["detail"]
    assert len(await cases_in(intake, gmina)) == 1

    # Another gmina's centre may have the same person; once closed, a new case may open here.
    elsewhere = GMINAS.fresh()
    await open_case(intake, elsewhere, pesel=pesel)
    response = await intake.call(
        "POST", f"/cases/{first['case_id']}/close", caseworker, json={"outcome": "moved_away"}
    )
    assert response.status_code == 200, response.text
    second = await open_case(intake, gmina, pesel=pesel)

    # Reopening the first would make two open cases for one person.
    response = await intake.call("POST", f"/cases/{first['case_id']}/reopen", caseworker)
    assert_problem(response, 409, "members", "duplicate_case")
    assert second["case_id"] in response.json()["detail"]


async def test_retried_post_with_the_same_idempotency_key_answers_the_first_result(
    intake: Service, tap: EventTap
) -> None:
    gmina = GMINAS.fresh()
    caseworker = intake.as_(Role.CASEWORKER, gmina=gmina)
    body = household(gmina)
    key = {"Idempotency-Key": str(uuid4())}

    first = await intake.call("POST", "/cases", caseworker, json=body, headers=key)
    again = await intake.call("POST", "/cases", caseworker, json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert len(await cases_in(intake, gmina)) == 1

    body["reasons"] = ["1"]
    changed = await intake.call("POST", "/cases", caseworker, json=body, headers=key)
    assert_problem(changed, 422, "Idempotency-Key", "idempotency_key_reused")
    assert len(await cases_in(intake, gmina)) == 1

    case_id = first.json()["case_id"]
    close_key = {"Idempotency-Key": str(uuid4())}
    outcome = {"outcome": "completed_successfully"}
    for _ in range(2):
        response = await intake.call(
            "POST", f"/cases/{case_id}/close", caseworker, json=outcome, headers=close_key
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"case_id": case_id, "status": "closed"}
    await tap.wait_for(case_id, "case.closed.v1")
    # A third close without the key is a transition out of order.
    response = await intake.call("POST", f"/cases/{case_id}/close", caseworker, json=outcome)
    assert_problem(response, 409, "status", "invalid_transition")
    assert len(tap.about(case_id, "case.closed.v1")) == 1


async def test_case_moves_through_its_lifecycle_and_refuses_steps_out_of_order(
    intake: Service, tap: EventTap
) -> None:
    gmina = GMINAS.fresh()
    case = await open_case(intake, gmina, consent_to_share=False)
    case_id = case["case_id"]
    caseworker = intake.as_(Role.CASEWORKER, gmina=gmina)
    assert case["status"] == "opened"

    response = await intake.call("POST", f"/cases/{case_id}/send-to-diagnosis", caseworker)
    assert_problem(response, 409, "consent", "no_consent")
    response = await intake.call("POST", f"/cases/{case_id}/reopen", caseworker)
    assert_problem(response, 409, "status", "invalid_transition")
    response = await intake.call(
        "POST", f"/cases/{case_id}/close", caseworker, json={"outcome": "vanished"}
    )
    assert_problem(response, 422, "outcome")
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    response = await intake.call(
        "POST",
        f"/cases/{case_id}/close",
        caseworker,
        json={"outcome": "moved_away", "closed_on": tomorrow},
    )
    assert_problem(response, 422, "closed_on", "closed_on_out_of_range")
    assert (await cases_in(intake, gmina))[0]["status"] == "opened"

    response = await intake.call(
        "POST", f"/cases/{case_id}/close", caseworker, json={"outcome": "refused_cooperation"}
    )
    assert response.json()["status"] == "closed"
    [closed] = await tap.wait_for(case_id, "case.closed.v1")
    assert closed.data["outcome"] == "refused_cooperation"
    response = await intake.call("POST", f"/cases/{case_id}/send-to-diagnosis", caseworker)
    assert_problem(response, 409, "status", "invalid_transition")

    response = await intake.call("POST", f"/cases/{case_id}/reopen", caseworker)
    # Without consent the reopened case waits for it, as an opened case does.
    assert response.json()["status"] == "reopened"
    [reopened] = await tap.wait_for(case_id, "case.reopened.v1")
    assert reopened.sequence > closed.sequence
    assert (closed.data["round"], reopened.data["round"]) == (1, 2)

    response = await intake.call(
        "GET", f"/cases/{case_id}", caseworker, params={"reason": "przegląd sprawy"}
    )
    history = response.json()["history"]
    assert [(h["step"], h["to_status"]) for h in history] == [
        ("open", "opened"),
        ("close", "closed"),
        ("reopen", "reopened"),
    ]
    assert history[1]["outcome"] == "refused_cooperation"


async def test_the_case_goes_into_support_when_the_family_agrees_to_its_plan(
    intake: Service, intake_db: asyncpg.Pool, amqp: AbstractRobustConnection, settings: Settings
) -> None:
    gmina = GMINAS.fresh()
    case_id = (await open_case(intake, gmina))["case_id"]
    goal_id = uuid4()
    completed = DiagnosisCompleted(
        diagnosis_id=uuid4(),
        case_id=UUID(case_id),
        place=place_of(gmina),
        completed_on=date.today(),
        needs=[Need(area="parenting", severity=2)],
        recommendations=[
            Recommendation(
                recommendation_id=uuid4(),
                support_type="family_assistant",
                need_area="parenting",
                priority=1,
            )
        ],
        institutions=[],
    )
    agreed = PlanAgreed(
        plan_id=uuid4(),
        diagnosis_id=completed.diagnosis_id,
        case_id=completed.case_id,
        place=completed.place,
        agreed_on=date.today(),
        goals=[
            PlanGoal(
                goal_id=goal_id,
                area="parenting",
                member_id=None,
                responsible_institution_id=None,
                due_on=date.today() + timedelta(days=90),
                review_on=date.today() + timedelta(days=30),
            )
        ],
        supports=[PlannedSupport(**completed.recommendations[0].model_dump(), goal_id=goal_id)],
    )
    # A completed diagnosis is not yet support: intake does not even listen to it.
    envelope = await publish(amqp, settings, completed, service="diagnosis")
    assert [c["status"] for c in await cases_in(intake, gmina)] == ["in_diagnosis"]
    ids = [
        (await publish(amqp, settings, agreed, service="diagnosis")).id,
        # The same fact again (a redelivery under a new id) changes nothing more.
        (await publish(amqp, settings, agreed, service="diagnosis")).id,
    ]
    await eventually(lambda: handled(intake_db, *ids), what="the plan agreed, twice")
    [case] = await cases_in(intake, gmina, status="in_support")
    assert case["case_id"] == case_id
    assert not await handled(intake_db, envelope.id)
    response = await intake.call(
        "GET", f"/cases/{case_id}", intake.as_(Role.CASEWORKER, gmina=gmina), headers=REASON
    )
    assert [h["step"] for h in response.json()["history"]].count("start_support") == 1


def revised_plan(case_id: str, gmina: str, *, round: int, version: int) -> PlanRevised:
    """The plan revised in a round (after the review of a reopened case's diagnosis)."""
    goal_id = uuid4()
    return PlanRevised(
        plan_id=uuid4(),
        diagnosis_id=uuid4(),
        case_id=UUID(case_id),
        place=place_of(gmina),
        revised_on=date.today(),
        version=version,
        goals=[
            PlanGoal(
                goal_id=goal_id,
                area="housing",
                member_id=None,
                responsible_institution_id=None,
                due_on=date.today() + timedelta(days=90),
                review_on=date.today() + timedelta(days=30),
            )
        ],
        supports=[
            PlannedSupport(
                recommendation_id=uuid4(),
                support_type="housing_help",
                need_area="housing",
                priority=1,
                goal_id=goal_id,
            )
        ],
        round=round,
    )


async def test_reopened_case_goes_into_support_when_the_plan_of_its_round_is_revised(
    intake: Service, amqp: AbstractRobustConnection, settings: Settings
) -> None:
    gmina = GMINAS.fresh()
    case_id = (await open_case(intake, gmina))["case_id"]
    caseworker = intake.as_(Role.CASEWORKER, gmina=gmina)
    response = await intake.call(
        "POST", f"/cases/{case_id}/close", caseworker, json={"outcome": "completed_partly"}
    )
    assert response.status_code == 200, response.text
    response = await intake.call("POST", f"/cases/{case_id}/reopen", caseworker)
    assert response.json()["status"] == "in_diagnosis", response.text
    # Sending it to diagnosis again is no error: it is there already.
    response = await intake.call("POST", f"/cases/{case_id}/send-to-diagnosis", caseworker)
    assert response.json() == {"case_id": case_id, "status": "in_diagnosis"}, response.text

    # A plan revision of the first round, arriving late, leaves the case in diagnosis; the one
    # of the second round (after its review) puts it into support. The witness case, published
    # after the late revision, shows that the late one was handled.
    witness = (await open_case(intake, gmina))["case_id"]
    for late in (case_id, witness):
        event = revised_plan(late, gmina, round=1, version=2)
        await publish(amqp, settings, event, service="diagnosis")

    async def in_support() -> set[str]:
        return {c["case_id"] for c in await cases_in(intake, gmina, status="in_support")}

    await eventually(lambda: _has(in_support, witness), what="the witness in support")
    assert case_id not in await in_support()
    event = revised_plan(case_id, gmina, round=2, version=3)
    await publish(amqp, settings, event, service="diagnosis")
    await eventually(lambda: _has(in_support, case_id), what="the reopened case in support")

    response = await intake.call(
        "GET", f"/cases/{case_id}", caseworker, params={"reason": "przegląd sprawy"}
    )
    assert [(h["step"], h["to_status"]) for h in response.json()["history"]] == [
        ("open", "opened"),
        ("send_to_diagnosis", "in_diagnosis"),
        ("close", "closed"),
        ("reopen", "reopened"),
        ("send_to_diagnosis", "in_diagnosis"),
        ("start_support", "in_support"),
    ]


async def _has(found: Any, case_id: str) -> bool:
    return case_id in await found()


@pytest.mark.parametrize(
    "header",
    [
        "wizyta w środowisku".encode(),  # UTF-8 bytes, as a browser or curl sends them
        b"UTF-8''wizyta%20w%20%C5%9Brodowisku",  # RFC 8187 ext-value, ASCII on the wire
        b"utf-8'pl'wizyta%20w%20%C5%9Brodowisku",
    ],
    ids=["utf-8", "rfc8187", "rfc8187-language"],
)
async def test_a_polish_access_reason_is_audited_as_written(intake: Service, header: bytes) -> None:
    gmina = GMINAS.fresh()
    case_id = (await open_case(intake, gmina))["case_id"]
    coordinator = intake.as_(Role.COORDINATOR, gmina=gmina)
    for path in (f"/cases/{case_id}", f"/cases/{case_id}/persons"):
        response = await intake.call("GET", path, coordinator, headers={"X-Access-Reason": header})
        assert response.status_code == 200, response.text
    response = await intake.call("GET", "/audit", coordinator, params={"case_id": case_id})
    reads = [e for e in response.json() if e["access"] != "opened"]
    assert [e["purpose"] for e in reads] == ["wizyta w środowisku"] * 2


@pytest.mark.parametrize(
    "header",
    [
        "wizyta w środowisku".encode("cp1250"),  # not UTF-8: refused, never guessed
        b"ISO-8859-2''wizyta%20w%20%B6rodowisku",
        b"UTF-8''%C5",
        b"UTF-8''",
    ],
    ids=["cp1250", "rfc8187-latin2", "rfc8187-broken", "rfc8187-empty"],
)
async def test_an_access_reason_not_in_utf8_is_refused_naming_the_header(
    intake: Service, header: bytes
) -> None:
    gmina = GMINAS.fresh()
    case_id = (await open_case(intake, gmina))["case_id"]
    coordinator = intake.as_(Role.COORDINATOR, gmina=gmina)
    response = await intake.call(
        "GET", f"/cases/{case_id}", coordinator, headers={"X-Access-Reason": header}
    )
    assert_problem(response, 422, "X-Access-Reason")
    response = await intake.call("GET", "/audit", coordinator, params={"case_id": case_id})
    assert [e["access"] for e in response.json()] == ["opened"]  # the opening's, no read


async def test_search_finds_cases_of_my_gmina_by_status_reason_and_date(intake: Service) -> None:
    gmina = GMINAS.fresh()
    poverty = await open_case(intake, gmina, reasons=["1"])
    violence = await open_case(intake, gmina, reasons=["7", "12"], consent_to_share=False)
    caseworker = intake.as_(Role.CASEWORKER, gmina=gmina)
    await intake.call(
        "POST", f"/cases/{poverty['case_id']}/close", caseworker, json={"outcome": "other"}
    )
    today = date.today()

    def ids(found: list[dict[str, Any]]) -> set[str]:
        return {c["case_id"] for c in found}

    assert ids(await cases_in(intake, gmina)) == {poverty["case_id"], violence["case_id"]}
    assert ids(await cases_in(intake, gmina, status="closed")) == {poverty["case_id"]}
    assert ids(await cases_in(intake, gmina, reason="12")) == {violence["case_id"]}
    assert ids(await cases_in(intake, gmina, opened_to=today.isoformat())) == ids(
        await cases_in(intake, gmina)
    )
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert await cases_in(intake, gmina, opened_from=tomorrow) == []
    listed = await cases_in(intake, gmina, reason="7")
    assert "members" not in listed[0] and listed[0]["household_size"] == 2

    response = await intake.call("GET", "/cases", caseworker, params={"reason": "16"})
    assert_problem(response, 422, "reason")
    other = intake.as_(Role.CASEWORKER, gmina=GMINAS.fresh())
    response = await intake.call("GET", "/cases", other, params={"gmina": gmina})
    assert response.status_code == 403
    response = await intake.call("GET", f"/cases/{violence['case_id']}", other, headers=REASON)
    assert response.status_code == 403


def accepted(case_id: str, gmina: str, institution: UUID, sector: str = "health") -> Any:
    return ReferralAccepted(
        referral_id=uuid4(),
        case_id=UUID(case_id),
        place=place_of(gmina),
        support_type="psychologist",
        institution_id=institution,
        sector=sector,
        complete_by=datetime.now(UTC) + timedelta(days=60),
    )


async def test_institution_with_an_accepted_referral_reads_minimal_data_and_is_audited(
    intake: Service, amqp: AbstractRobustConnection, settings: Settings
) -> None:
    gmina = GMINAS.fresh()
    case_id = (await open_case(intake, gmina))["case_id"]
    clinic, stranger = uuid4(), uuid4()
    staff = intake.as_(Role.INSTITUTION_STAFF, subject="psycholog-1", institution=clinic)
    path = f"/cases/{case_id}/persons"

    response = await intake.call("GET", path, staff, headers=REASON)
    assert response.status_code == 403
    assert response.json()["code"] == "no_access_grant"

    referral = accepted(case_id, gmina, clinic)
    await publish(amqp, settings, referral)

    async def readable() -> Any:
        r = await intake.call("GET", path, staff, headers=REASON)
        return r if r.status_code == 200 else None

    persons = (await eventually(readable, what="the grant")).json()["persons"]
    assert persons[0]["first_name"] == "Bożena" and persons[0]["phone"] == "+48 601 234 567"
    assert persons[0]["age"] >= 41 and "pesel" not in persons[0] and "address" not in persons[0]

    response = await intake.call("GET", path, staff)
    assert_problem(response, 422, "X-Access-Reason", "access_reason_required")
    other_staff = intake.as_(Role.INSTITUTION_STAFF, institution=stranger)
    assert (await intake.call("GET", path, other_staff, headers=REASON)).status_code == 403
    team = intake.as_(Role.TEAM_MEMBER, gmina=gmina, institution=clinic)
    assert (await intake.call("GET", path, team, headers=REASON)).status_code == 403
    missing = f"/cases/{uuid4()}/persons"
    assert (await intake.call("GET", missing, staff, headers=REASON)).status_code == 403

    coordinator = intake.as_(Role.COORDINATOR, gmina=gmina)
    response = await intake.call("GET", "/audit", coordinator, params={"case_id": case_id})
    assert response.status_code == 200, response.text
    opening, *entries = reversed(response.json())
    entries.reverse()  # newest first, as the log answers
    assert (opening["access"], opening["purpose"]) == ("opened", "założenie sprawy")
    # One entry per read that was allowed; refused and reason-less reads showed nothing.
    assert len(entries) == len([e for e in entries if e["subject"] == "psycholog-1"]) >= 1
    assert entries[0]["purpose"] == REASON["X-Access-Reason"]
    assert entries[0]["institution"] == str(clinic)
    assert entries[0]["access"] == "minimal_personal_data"
    reads_before = len(entries) + 1  # and the opening
    await intake.call("GET", path, staff, params={"reason": "umówienie wizyty"})
    response = await intake.call("GET", "/audit", coordinator, params={"case_id": case_id})
    assert len(response.json()) == reads_before + 1
    assert response.json()[0]["purpose"] == "umówienie wizyty"

    # The support ends: the grant goes with it.
    await publish(
        amqp,
        settings,
        SupportCompleted(
            referral_id=referral.referral_id,
            case_id=referral.case_id,
            place=referral.place,
            support_type=referral.support_type,
            institution_id=clinic,
            sector="health",
            outcome="achieved",
        ),
    )

    async def revoked() -> bool:
        return (await intake.call("GET", path, staff, headers=REASON)).status_code == 403

    await eventually(revoked, what="the grant to be revoked")


async def handled(pool: asyncpg.Pool, *event_ids: UUID) -> bool:
    count = await pool.fetchval(
        "SELECT count(*) FROM inbox WHERE event_id = ANY($1::uuid[])", list(event_ids)
    )
    return count == len(event_ids)


async def test_grants_respect_consent_scope_and_a_cancellation_arriving_first(
    intake: Service, intake_db: asyncpg.Pool, amqp: AbstractRobustConnection, settings: Settings
) -> None:
    gmina = GMINAS.fresh()
    scoped = await open_case(
        intake, gmina, consent={"given_on": date.today().isoformat(), "scope": ["education"]}
    )
    without = await open_case(intake, gmina, consent_to_share=False)
    plain = await open_case(intake, gmina)
    clinic = uuid4()
    staff = intake.as_(Role.INSTITUTION_STAFF, institution=clinic)

    health_referral = accepted(scoped["case_id"], gmina, clinic, sector="health")
    no_consent_referral = accepted(without["case_id"], gmina, clinic, sector="health")
    late = accepted(plain["case_id"], gmina, clinic)
    cancelled = SupportCancelled(
        referral_id=late.referral_id,
        case_id=late.case_id,
        place=late.place,
        support_type=late.support_type,
        institution_id=clinic,
        reason="case_closed",
    )
    ids = [
        (await publish(amqp, settings, e)).id
        for e in (health_referral, no_consent_referral, cancelled, late)
    ]
    await eventually(lambda: handled(intake_db, *ids), what="intake to take the four events")

    for case in (scoped, without, plain):
        response = await intake.call(
            "GET", f"/cases/{case['case_id']}/persons", staff, headers=REASON
        )
        assert response.status_code == 403, case


async def test_audit_log_refuses_updates_and_deletes(
    intake: Service, intake_db: asyncpg.Pool
) -> None:
    gmina = GMINAS.fresh()
    case_id = (await open_case(intake, gmina))["case_id"]
    caseworker = intake.as_(Role.CASEWORKER, subject="pracownik-7", gmina=gmina)
    response = await intake.call("GET", f"/cases/{case_id}", caseworker, headers=REASON)
    assert response.status_code == 200
    response = await intake.call("GET", f"/cases/{case_id}", caseworker)
    assert_problem(response, 422, "X-Access-Reason", "access_reason_required")

    rows = await intake_db.fetch("SELECT * FROM audit_log WHERE case_id = $1", UUID(case_id))
    assert [(r["subject"], r["role"], r["access"]) for r in rows] == [
        ("it-caseworker", "caseworker", "opened"),  # who opened it, with personal data
        ("pracownik-7", "caseworker", "case_record"),
    ]
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await intake_db.execute(
            "UPDATE audit_log SET purpose = 'nic' WHERE case_id = $1", UUID(case_id)
        )
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await intake_db.execute("DELETE FROM audit_log WHERE case_id = $1", UUID(case_id))
    assert (
        await intake_db.fetchval("SELECT count(*) FROM audit_log WHERE case_id = $1", UUID(case_id))
        == 2
    )


async def test_concurrent_requests_open_one_case_for_one_key_and_one_per_person(
    intake: Service,
) -> None:
    gmina = GMINAS.fresh()
    caseworker = intake.as_(Role.CASEWORKER, gmina=gmina)
    body = household(gmina)
    key = {"Idempotency-Key": str(uuid4())}
    answers = await asyncio.gather(
        *(intake.call("POST", "/cases", caseworker, json=body, headers=key) for _ in range(5))
    )
    assert {r.status_code for r in answers} == {201}
    assert len({r.json()["case_id"] for r in answers}) == 1

    # The same person in five households at once, without a key: one opens, four are refused.
    pesel = new_pesel()
    answers = await asyncio.gather(
        *(
            intake.call("POST", "/cases", caseworker, json=household(gmina, pesel=pesel))
            for _ in range(5)
        )
    )
    assert sorted(r.status_code for r in answers) == [201, 409, 409, 409, 409]
    assert len(await cases_in(intake, gmina)) == 2


async def test_answers_to_idempotent_requests_are_forgotten_after_a_week(
    intake: Service, intake_db: asyncpg.Pool
) -> None:
    old, fresh = f"old-{uuid4()}", f"fresh-{uuid4()}"
    async with intake_db.acquire() as conn:
        for key, age in ((old, timedelta(days=8)), (fresh, timedelta(days=6))):
            await conn.execute(
                """INSERT INTO idempotency_keys (principal, key, request_hash, status, body,
                                                 created_at)
                   VALUES ('caseworker:it', $1, 'h', 201, '{}', now() - $2::interval)""",
                key,
                age,
            )
        assert await forget_answers(conn, KEEP_ANSWERS) >= 1
        kept = await conn.fetch(
            "SELECT key FROM idempotency_keys WHERE key = ANY($1::text[])", [old, fresh]
        )
    assert [r["key"] for r in kept] == [fresh]


CONSENT_BAD_INPUT = [
    ("dated tomorrow", {"given_on": (date.today() + timedelta(days=1)).isoformat()}, "given_on"),
    (
        "dated before the case opened",
        {"given_on": (date.today() - timedelta(days=1)).isoformat()},
        "given_on",
    ),
    ("no date", {"scope": []}, "given_on"),
    ("not a date", {"given_on": "5 stycznia"}, "given_on"),
    ("unknown sector", {"given_on": date.today().isoformat(), "scope": ["bank"]}, "scope[0]"),
    ("unknown field", {"given_on": date.today().isoformat(), "signed_by": "Jan"}, "signed_by"),
]


async def test_consent_given_later_sends_the_case_to_diagnosis_once_and_publishes_codes_only(
    intake: Service, tap: EventTap
) -> None:
    gmina = GMINAS.fresh()
    case_id = (await open_case(intake, gmina, consent_to_share=False))["case_id"]
    caseworker = intake.as_(Role.CASEWORKER, gmina=gmina)
    coordinator = intake.as_(Role.COORDINATOR, gmina=gmina)

    for what, body, field in CONSENT_BAD_INPUT:
        response = await intake.call("POST", f"/cases/{case_id}/consent", caseworker, json=body)
        assert response.status_code == 422, (what, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["field"] == field, (what, response.json())
    [case] = await cases_in(intake, gmina)
    assert case["status"] == "opened" and case["consent_to_share"] is False
    response = await intake.call(
        "POST", f"/cases/{uuid4()}/consent", caseworker, json={"given_on": str(date.today())}
    )
    assert response.status_code == 404 and response.json()["code"] == "case_not_found"

    body = {"given_on": date.today().isoformat(), "scope": ["health", "education", "health"]}
    key = {"Idempotency-Key": str(uuid4())}
    for _ in range(2):
        response = await intake.call(
            "POST", f"/cases/{case_id}/consent", coordinator, json=body, headers=key
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"case_id": case_id, "status": "in_diagnosis"}
    response = await intake.call("POST", f"/cases/{case_id}/consent", caseworker, json=body)
    assert_problem(response, 409, "consent", "consent_already_given")

    [given] = await tap.wait_for(case_id, "case.consent_given.v1")
    assert given.data == {
        "case_id": case_id,
        "place": place_of(gmina).model_dump(mode="json"),
        "given_on": date.today().isoformat(),
        "round": 1,
        "scope": ["health", "education"],  # sectors are codes: diagnosis's notes follow them
    }
    [opened] = tap.about(case_id, "case.opened.v1")
    assert given.sequence > opened.sequence

    response = await intake.call("GET", f"/cases/{case_id}", caseworker, headers=REASON)
    case = response.json()
    assert case["consent_to_share"] is True
    assert case["consent"] == {
        "given_on": date.today().isoformat(),
        "scope": ["health", "education"],
    }
    assert [(h["step"], h["from_status"], h["to_status"]) for h in case["history"]] == [
        ("open", None, "opened"),
        ("give_consent", "opened", "opened"),
        ("send_to_diagnosis", "opened", "in_diagnosis"),
    ]

    # A close published after the consent proves that the refused and retried requests
    # published nothing of their own.
    response = await intake.call(
        "POST", f"/cases/{case_id}/close", caseworker, json={"outcome": "moved_away"}
    )
    assert response.status_code == 200, response.text
    await tap.wait_for(case_id, "case.closed.v1")
    assert len(tap.about(case_id, "case.consent_given.v1")) == 1


async def test_consent_is_refused_for_a_closed_case_and_changes_nothing(
    intake: Service, tap: EventTap
) -> None:
    gmina = GMINAS.fresh()
    case_id = (await open_case(intake, gmina, consent_to_share=False))["case_id"]
    caseworker = intake.as_(Role.CASEWORKER, gmina=gmina)
    response = await intake.call(
        "POST", f"/cases/{case_id}/close", caseworker, json={"outcome": "moved_away"}
    )
    assert response.status_code == 200, response.text

    body = {"given_on": date.today().isoformat()}
    response = await intake.call("POST", f"/cases/{case_id}/consent", caseworker, json=body)
    assert_problem(response, 409, "consent", "case_closed")
    [case] = await cases_in(intake, gmina)
    assert case["status"] == "closed" and case["consent_to_share"] is False

    # Reopened, the case may take the consent, which sends it to the PZK's diagnosis (of its
    # second round) as it does an opened case.
    response = await intake.call("POST", f"/cases/{case_id}/reopen", caseworker)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "reopened"
    response = await intake.call("POST", f"/cases/{case_id}/consent", caseworker, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "in_diagnosis"
    [given] = await tap.wait_for(case_id, "case.consent_given.v1")
    assert given.data["round"] == 2
    response = await intake.call("POST", f"/cases/{case_id}/send-to-diagnosis", caseworker)
    assert response.json()["status"] == "in_diagnosis", response.text


async def test_withdrawn_consent_ends_every_grant_audited_and_consent_given_again_resumes_them(
    intake: Service,
    intake_db: asyncpg.Pool,
    amqp: AbstractRobustConnection,
    tap: EventTap,
    settings: Settings,
) -> None:
    gmina = GMINAS.fresh()
    case_id = (await open_case(intake, gmina))["case_id"]
    caseworker = intake.as_(Role.CASEWORKER, gmina=gmina)
    clinic = uuid4()
    staff = intake.as_(Role.INSTITUTION_STAFF, subject="psycholog-2", institution=clinic)
    persons = f"/cases/{case_id}/persons"
    withdraw = f"/cases/{case_id}/consent/withdrawal"
    referral = accepted(case_id, gmina, clinic)
    handled_grant = await publish(amqp, settings, referral)
    await eventually(lambda: handled(intake_db, handled_grant.id), what="the grant")
    assert (await intake.call("GET", persons, staff, headers=REASON)).status_code == 200

    today = date.today()
    for body, field in (
        ({"withdrawn_on": (today + timedelta(days=1)).isoformat()}, "withdrawn_on"),
        ({"withdrawn_on": "2001-01-01"}, "withdrawn_on"),
        ({"withdrawn_on": "wczoraj"}, "withdrawn_on"),
        ({}, "withdrawn_on"),
    ):
        assert_problem(await intake.call("POST", withdraw, caseworker, json=body), 422, field)
    elsewhere = intake.as_(Role.CASEWORKER, gmina=GMINAS.fresh())
    body = {"withdrawn_on": today.isoformat()}
    assert (await intake.call("POST", withdraw, elsewhere, json=body)).status_code == 403
    assert (await intake.call("GET", persons, staff, headers=REASON)).status_code == 200

    key = {"Idempotency-Key": str(uuid4())}
    for _ in range(2):
        response = await intake.call("POST", withdraw, caseworker, json=body, headers=key)
        assert response.status_code == 200, response.text
        assert response.json() == {"case_id": case_id, "status": "in_diagnosis"}
    response = await intake.call("POST", withdraw, caseworker, json=body)
    assert_problem(response, 409, "consent", "no_consent")

    [withdrawn] = await tap.wait_for(case_id, "case.consent_withdrawn.v1")
    assert withdrawn.data == {
        "case_id": case_id,
        "place": place_of(gmina).model_dump(mode="json"),
        "withdrawn_on": today.isoformat(),
    }
    response = await intake.call("GET", persons, staff, headers=REASON)
    assert response.status_code == 403 and response.json()["code"] == "consent_withdrawn"
    # A referral accepted before the withdrawal reached referrals grants nothing either.
    late_clinic = uuid4()
    late = await publish(amqp, settings, accepted(case_id, gmina, late_clinic))
    await eventually(lambda: handled(intake_db, late.id), what="the late acceptance")
    late_staff = intake.as_(Role.INSTITUTION_STAFF, institution=late_clinic)
    assert (await intake.call("GET", persons, late_staff, headers=REASON)).status_code == 403

    case = (await intake.call("GET", f"/cases/{case_id}", caseworker, headers=REASON)).json()
    assert (case["consent_to_share"], case["consent"]) == (False, None)
    assert case["consent_withdrawn_on"] == today.isoformat()
    assert case["history"][-1]["step"] == "withdraw_consent"
    coordinator = intake.as_(Role.COORDINATOR, gmina=gmina)
    audit = (await intake.call("GET", "/audit", coordinator, params={"case_id": case_id})).json()
    ended = [e for e in audit if e["access"] == "grant_ended"]
    assert [(e["institution"], e["purpose"]) for e in ended] == [
        (str(clinic), f"consent withdrawn on {today}")
    ]

    # Consent given again reopens sharing for the supports still going on, audited likewise.
    again = {"given_on": today.isoformat()}
    response = await intake.call("POST", f"/cases/{case_id}/consent", caseworker, json=again)
    assert response.status_code == 200, response.text
    for who in (staff, late_staff):
        assert (await intake.call("GET", persons, who, headers=REASON)).status_code == 200
    audit = (await intake.call("GET", "/audit", coordinator, params={"case_id": case_id})).json()
    assert sorted(e["institution"] for e in audit if e["access"] == "grant_resumed") == sorted(
        [str(clinic), str(late_clinic)]
    )
    [given_event] = await tap.wait_for(case_id, "case.consent_given.v1")
    assert given_event.sequence > withdrawn.sequence
