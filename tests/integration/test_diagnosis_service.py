"""Diagnosis on the real database and broker: the PZK's membership learnt from events, assessments,
completion, revision, and cases closed or reopened in any order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from aio_pika.abc import AbstractRobustConnection

from services.diagnosis.app import spec as diagnosis_spec
from shared.auth import Role
from shared.codes import Sector
from shared.db import create_pool
from shared.events import (
    CaseAnonymised,
    CaseClosed,
    CaseConsentGiven,
    CaseConsentWithdrawn,
    CaseOpened,
    CaseReopened,
    CaseTransferred,
    InstitutionUpdated,
    PartnershipChanged,
    Place,
)
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
GMINAS = Gminas("20")
NOTE = "Ojciec przyznał się do picia, dzieci boją się wracać do domu"


@pytest.fixture(scope="module")
async def diagnosis(settings: Settings) -> AsyncIterator[Service]:
    async with running(diagnosis_spec, "diagnosisit", 11, settings) as service:
        yield service


@pytest.fixture(scope="module")
async def tap(amqp: AbstractRobustConnection, settings: Settings) -> AsyncIterator[EventTap]:
    async with tapped(amqp, settings) as events:
        yield events


@pytest.fixture(scope="module")
async def diagnosis_db(settings: Settings, diagnosis: Service) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(settings.database_url("diagnosisit"))
    yield pool
    await pool.close()


def place_of(gmina: str) -> Place:
    return terc().gmina(gmina).place


def case_opened(gmina: str, *, consent: bool = True) -> CaseOpened:
    return CaseOpened(
        case_id=uuid4(),
        place=place_of(gmina),
        opened_on=date.today(),
        household_size=3,
        age_bands={"30-44": 2, "6-17": 1},
        reasons=["9", "12"],
        notified_by="police",
        consent_to_share=consent,
    )


async def handled(pool: asyncpg.Pool, *event_ids: UUID) -> bool:
    count = await pool.fetchval(
        "SELECT count(*) FROM inbox WHERE event_id = ANY($1::uuid[])", list(event_ids)
    )
    return count == len(event_ids)


class Team:
    """A gmina with its PZK, as referrals announces it, and a way to reach its diagnoses."""

    def __init__(self, service: Service, amqp: Any, settings: Settings, pool: asyncpg.Pool):
        self.service, self.amqp, self.settings, self.pool = service, amqp, settings, pool
        self.gmina = GMINAS.fresh()
        self.members = [uuid4(), uuid4()]
        self.coordinator = service.as_(Role.COORDINATOR, gmina=self.gmina)

    def member(self, institution: UUID) -> dict[str, str]:
        # Team members' tokens carry their institution; membership comes from the PZK.
        return self.service.as_(Role.TEAM_MEMBER, institution=institution)

    async def announce(self, institutions: list[UUID], at: datetime | None = None) -> UUID:
        event = PartnershipChanged(gmina=self.gmina, institutions=institutions)
        envelope = await publish(self.amqp, self.settings, event, time=at)
        await eventually(lambda: handled(self.pool, envelope.id), what="the partnership")
        return envelope.id

    async def open_case(self, **fields: Any) -> tuple[CaseOpened, dict[str, Any]]:
        event = case_opened(self.gmina, **fields)
        await publish(self.amqp, self.settings, event, service="intake", sequence=1)
        return event, await self.diagnosis_of(event.case_id)

    async def diagnosis_of(self, case_id: UUID) -> dict[str, Any]:
        async def found() -> list[dict[str, Any]]:
            r = await self.service.call(
                "GET", "/diagnoses", self.coordinator, params={"case_id": str(case_id)}
            )
            return r.json()

        [diagnosis] = await eventually(found, what=f"the diagnosis of {case_id}")
        return diagnosis

    async def assess(self, diagnosis_id: Any, who: dict[str, str], **body: Any) -> Any:
        body.setdefault("need_area", "addiction")
        body.setdefault("severity", 3)
        return await self.service.call(
            "POST", f"/diagnoses/{diagnosis_id}/assessments", who, json=body
        )

    async def read(self, diagnosis_id: Any) -> dict[str, Any]:
        r = await self.service.call("GET", f"/diagnoses/{diagnosis_id}", self.coordinator)
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
async def team(
    diagnosis: Service,
    amqp: AbstractRobustConnection,
    settings: Settings,
    diagnosis_db: asyncpg.Pool,
) -> Team:
    team = Team(diagnosis, amqp, settings, diagnosis_db)
    await team.announce(team.members)
    return team


def assert_problem(response: Any, status: int, field: str | None, code: str | None = None):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    if field is not None:
        assert problem["field"] == field, problem
    if code is not None:
        assert problem["code"] == code, problem


async def test_only_members_of_the_gminas_partner_team_add_assessments(team: Team) -> None:
    _, diagnosis = await team.open_case()
    did = diagnosis["diagnosis_id"]
    member, outsider = team.members[0], uuid4()

    assert (await team.assess(did, team.member(member), notes=NOTE)).status_code == 201
    assert_problem(await team.assess(did, team.member(outsider)), 404, None, "diagnosis_not_found")
    in_gmina_outsider = team.service.as_(Role.TEAM_MEMBER, gmina=team.gmina, institution=outsider)
    assert_problem(await team.assess(did, in_gmina_outsider), 403, None, "not_in_partnership")
    no_institution = team.service.as_(Role.TEAM_MEMBER, gmina=team.gmina)
    assert_problem(await team.assess(did, no_institution), 403, None, "scope_missing")
    assert (await team.assess(did, team.coordinator, need_area="housing")).status_code == 201
    elsewhere = team.service.as_(Role.COORDINATOR, gmina=GMINAS.fresh())
    assert (await team.assess(did, elsewhere)).status_code == 404

    # An institution that leaves the team, or is deactivated, may no longer assess.
    await team.announce([team.members[1]])
    assert_problem(await team.assess(did, team.member(member)), 404, None)
    envelope = await publish(
        team.amqp,
        team.settings,
        InstitutionUpdated(
            institution_id=team.members[1],
            name="Poradnia Psychologiczno-Pedagogiczna",
            sector="education",
            support_types=["psychological_pedagogical_counselling"],
            gminas=[team.gmina],
            active=False,
        ),
    )
    await eventually(lambda: handled(team.pool, envelope.id), what="the update")
    assert_problem(await team.assess(did, team.member(team.members[1])), 404, None)

    stored = await team.read(did)
    assert [a["need_area"] for a in stored["assessments"]] == ["addiction", "housing"]
    assert "notes" not in stored["assessments"][0] and stored["assessments"][0]["has_notes"]
    response = await team.service.call(
        "GET", f"/diagnoses/{did}/notes", team.coordinator, params={"reason": "przegląd"}
    )
    assert [n["notes"] for n in response.json()["notes"]] == [NOTE]


async def test_an_older_team_list_arriving_late_does_not_undo_a_newer_one(team: Team) -> None:
    _, diagnosis = await team.open_case()
    newcomer = uuid4()
    now = datetime.now(UTC)
    await team.announce([*team.members, newcomer], at=now + timedelta(minutes=1))
    await team.announce([team.members[0]], at=now - timedelta(minutes=1))
    response = await team.assess(diagnosis["diagnosis_id"], team.member(newcomer))
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"need_area": "boredom"}, "need_area"),
        ({"severity": 4}, "severity"),
        (
            {"recommendations": [{"support_type": "horse_riding"}]},
            "recommendations[0].support_type",
        ),
        (
            {"recommendations": [{"support_type": "meals", "priority": 0}]},
            "recommendations[0].priority",
        ),
        ({"notes": "x" * 5001}, "notes"),
    ],
)
async def test_bad_assessment_is_refused_naming_the_field_and_changes_nothing(
    team: Team, body: dict[str, Any], field: str
) -> None:
    _, diagnosis = await team.open_case()
    response = await team.assess(diagnosis["diagnosis_id"], team.member(team.members[0]), **body)
    assert_problem(response, 422, field, "validation_failed")
    assert (await team.read(diagnosis["diagnosis_id"]))["assessments"] == []


async def test_completion_needs_a_need_and_a_recommendation_and_publishes_no_notes(
    team: Team, tap: EventTap
) -> None:
    case, diagnosis = await team.open_case()
    did = diagnosis["diagnosis_id"]
    complete = f"/diagnoses/{did}/complete"

    response = await team.service.call("POST", complete, team.coordinator)
    assert_problem(response, 422, "assessments", "no_needs")
    await team.assess(did, team.member(team.members[0]), notes=NOTE)
    response = await team.service.call("POST", complete, team.coordinator)
    assert_problem(response, 422, "assessments", "no_recommendations")
    assert (await team.read(did))["status"] == "open"
    team_member = team.member(team.members[1])
    assert (await team.service.call("POST", complete, team_member)).status_code == 403

    response = await team.assess(
        did,
        team.member(team.members[1]),
        need_area="parenting",
        severity=2,
        notes="Matka nie radzi sobie z synem",
        recommendations=[
            {"support_type": "family_assistant", "priority": 1},
            {"support_type": "parenting_workshops", "priority": 3},
        ],
    )
    assert response.status_code == 201
    response = await team.service.call("POST", complete, team.coordinator)
    assert response.status_code == 200, response.text
    response = await team.service.call("POST", complete, team.coordinator)
    assert_problem(response, 409, "status", "diagnosis_not_open")

    [event] = await tap.wait_for(case.case_id, "diagnosis.completed.v1")
    assert event.data["needs"] == [
        {"area": "addiction", "severity": 3},
        {"area": "parenting", "severity": 2},
    ]
    assert {(r["support_type"], r["priority"]) for r in event.data["recommendations"]} == {
        ("family_assistant", 1),
        ("parenting_workshops", 3),
    }
    assert set(event.data["institutions"]) == {str(i) for i in team.members}
    raw = event.to_bytes().decode()
    assert "picia" not in raw and "Matka" not in raw


async def test_coordinator_revises_a_completed_diagnosis_with_the_full_set_and_removed_ids(
    team: Team, tap: EventTap
) -> None:
    case, diagnosis = await team.open_case()
    did = diagnosis["diagnosis_id"]
    revise = f"/diagnoses/{did}/revisions"
    response = await team.assess(
        did,
        team.member(team.members[0]),
        recommendations=[{"support_type": "addiction_therapy"}, {"support_type": "psychologist"}],
    )
    therapy, psychologist = response.json()["recommendations"]
    response = await team.service.call(
        "POST", revise, team.coordinator, json={"remove": [psychologist]}
    )
    assert_problem(response, 409, "status", "diagnosis_not_completed")
    await team.service.call("POST", f"/diagnoses/{did}/complete", team.coordinator)

    bad = [
        ({}, "add", "empty_revision"),
        ({"remove": [str(uuid4())]}, "remove[0]", "unknown_recommendation"),
        (
            {"add": [{"support_type": "meals", "need_area": "finances"}]},
            "add[0].need_area",
            "need_not_assessed",
        ),
        ({"remove": [therapy, psychologist]}, "remove", "no_recommendations"),
    ]
    for body, field, code in bad:
        response = await team.service.call("POST", revise, team.coordinator, json=body)
        assert_problem(response, 422, field, code)
    assert (await team.read(did))["revision"] == 1

    response = await team.service.call(
        "POST",
        revise,
        team.coordinator,
        json={
            "remove": [psychologist],
            "add": [{"support_type": "psychiatrist", "need_area": "addiction", "priority": 1}],
        },
    )
    assert response.status_code == 200, response.text
    [added] = response.json()["added"]

    [event] = await tap.wait_for(case.case_id, "diagnosis.revised.v1")
    assert event.data["revision"] == 2
    assert event.data["removed"] == [psychologist]
    assert {r["recommendation_id"] for r in event.data["recommendations"]} == {therapy, added}
    # A second review removes what the first added.
    response = await team.service.call("POST", revise, team.coordinator, json={"remove": [added]})
    assert response.json()["revision"] == 3
    [_, third] = await tap.wait_for(case.case_id, "diagnosis.revised.v1", count=2)
    assert [r["recommendation_id"] for r in third.data["recommendations"]] == [therapy]


async def test_closing_cancels_an_open_diagnosis_and_reopening_restores_it(team: Team) -> None:
    case, diagnosis = await team.open_case()
    did = diagnosis["diagnosis_id"]
    closed = CaseClosed(
        case_id=case.case_id, place=case.place, closed_on=date.today(), outcome="moved_away"
    )
    envelope = await publish(team.amqp, team.settings, closed, service="intake", sequence=2)
    await eventually(lambda: handled(team.pool, envelope.id), what="the close")
    assert (await team.read(did))["status"] == "cancelled"
    response = await team.assess(did, team.member(team.members[0]))
    assert_problem(response, 409, "status", "diagnosis_not_open")
    response = await team.service.call("POST", f"/diagnoses/{did}/complete", team.coordinator)
    assert_problem(response, 409, "status", "diagnosis_not_open")

    reopened = CaseReopened(case_id=case.case_id, place=case.place, reopened_on=date.today())
    envelope = await publish(team.amqp, team.settings, reopened, service="intake", sequence=3)
    await eventually(lambda: handled(team.pool, envelope.id), what="the reopen")
    assert (await team.read(did))["status"] == "open"


async def test_case_closed_before_its_opening_arrives_gets_a_cancelled_diagnosis(
    team: Team,
) -> None:
    # Many cases at once: the consumer handles deliveries concurrently, so this also catches
    # an opening racing its close.
    cases = [case_opened(team.gmina) for _ in range(20)]
    ids = []
    for case in cases:
        closed = CaseClosed(
            case_id=case.case_id, place=case.place, closed_on=date.today(), outcome="died"
        )
        ids.append(
            (await publish(team.amqp, team.settings, closed, service="intake", sequence=2)).id
        )
        ids.append((await publish(team.amqp, team.settings, case, service="intake", sequence=1)).id)
    await eventually(lambda: handled(team.pool, *ids), what="all the events")
    for case in cases:
        response = await team.service.call(
            "GET", "/diagnoses", team.coordinator, params={"case_id": str(case.case_id)}
        )
        # Whichever came first, the diagnosis is there, cancelled, for a reopening to restore.
        assert [d["status"] for d in response.json()] == ["cancelled"], case.case_id


async def test_close_and_reopen_out_of_order_settle_on_the_later(team: Team) -> None:
    case, diagnosis = await team.open_case()
    reopened = CaseReopened(case_id=case.case_id, place=case.place, reopened_on=date.today())
    closed = CaseClosed(
        case_id=case.case_id, place=case.place, closed_on=date.today(), outcome="other"
    )
    first = await publish(team.amqp, team.settings, reopened, service="intake", sequence=3)
    then = await publish(team.amqp, team.settings, closed, service="intake", sequence=2)
    await eventually(lambda: handled(team.pool, first.id, then.id), what="both events")
    assert (await team.read(diagnosis["diagnosis_id"]))["status"] == "open"


async def test_case_without_consent_gets_no_diagnosis(team: Team) -> None:
    without = case_opened(team.gmina, consent=False)
    envelope = await publish(team.amqp, team.settings, without, service="intake", sequence=1)
    await eventually(lambda: handled(team.pool, envelope.id), what="the opening")
    response = await team.service.call(
        "GET", "/diagnoses", team.coordinator, params={"case_id": str(without.case_id)}
    )
    assert response.json() == []


def consent_given(case: CaseOpened) -> CaseConsentGiven:
    return CaseConsentGiven(case_id=case.case_id, place=case.place, given_on=date.today())


async def diagnoses_of(team: Team, case_id: UUID) -> list[dict[str, Any]]:
    response = await team.service.call(
        "GET", "/diagnoses", team.coordinator, params={"case_id": str(case_id)}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_consent_given_later_opens_one_diagnosis_in_whatever_order_it_arrives(
    team: Team,
) -> None:
    in_order, consent_first = (case_opened(team.gmina, consent=False) for _ in range(2))

    async def send(event: Any, sequence: int) -> UUID:
        envelope = await publish(
            team.amqp, team.settings, event, service="intake", sequence=sequence
        )
        return envelope.id

    ids = [
        await send(in_order, 1),
        # The same fact twice (a producer retry under a new id): still one diagnosis.
        await send(consent_given(in_order), 2),
        await send(consent_given(in_order), 2),
        # Consent before the opening it follows: the diagnosis opens all the same.
        await send(consent_given(consent_first), 2),
        await send(consent_first, 1),
    ]
    await eventually(lambda: handled(team.pool, *ids), what="all the events")
    for case in (in_order, consent_first):
        assert [d["status"] for d in await diagnoses_of(team, case.case_id)] == ["open"]


async def test_consent_arriving_after_the_case_was_closed_opens_no_diagnosis_until_a_reopening(
    team: Team,
) -> None:
    case = case_opened(team.gmina, consent=False)
    closed = CaseClosed(
        case_id=case.case_id, place=case.place, closed_on=date.today(), outcome="moved_away"
    )
    ids = [
        (await publish(team.amqp, team.settings, case, service="intake", sequence=1)).id,
        (await publish(team.amqp, team.settings, closed, service="intake", sequence=3)).id,
    ]
    await eventually(lambda: handled(team.pool, *ids), what="the opening and the close")
    late = await publish(
        team.amqp, team.settings, consent_given(case), service="intake", sequence=2
    )
    await eventually(lambda: handled(team.pool, late.id), what="the late consent")
    assert [d["status"] for d in await diagnoses_of(team, case.case_id)] == ["cancelled"]
    reopened = CaseReopened(case_id=case.case_id, place=case.place, reopened_on=date.today())
    envelope = await publish(team.amqp, team.settings, reopened, service="intake", sequence=4)
    await eventually(lambda: handled(team.pool, envelope.id), what="the reopening")
    [diagnosis] = await diagnoses_of(team, case.case_id)
    assert (diagnosis["status"], diagnosis["round"]) == ("open", 2)


def closing(case: CaseOpened, round: int) -> CaseClosed:
    return CaseClosed(
        case_id=case.case_id,
        place=case.place,
        closed_on=date.today(),
        outcome="completed_partly",
        round=round,
    )


def reopening(case: CaseOpened, round: int) -> CaseReopened:
    return CaseReopened(
        case_id=case.case_id, place=case.place, reopened_on=date.today(), round=round
    )


async def test_a_reopening_opens_the_completed_diagnosis_for_review_concluded_by_a_revision(
    team: Team, tap: EventTap
) -> None:
    case, diagnosis = await team.open_case()
    did = diagnosis["diagnosis_id"]
    member = team.member(team.members[0])
    response = await team.assess(
        did, member, recommendations=[{"support_type": "addiction_therapy"}]
    )
    [therapy] = response.json()["recommendations"]
    response = await team.service.call("POST", f"/diagnoses/{did}/complete", team.coordinator)
    assert response.status_code == 200, response.text
    for event, sequence in ((closing(case, 1), 2), (reopening(case, 2), 3)):
        envelope = await publish(
            team.amqp, team.settings, event, service="intake", sequence=sequence
        )
        await eventually(lambda e=envelope: handled(team.pool, e.id), what=event.routing_key)

    review = await team.read(did)
    assert (review["status"], review["round"], review["in_review"]) == ("open", 2, True)
    # The team assesses anew: a new need and what it calls for.
    response = await team.assess(
        did,
        member,
        need_area="employment",
        severity=2,
        recommendations=[{"support_type": "vocational_counselling", "priority": 1}],
    )
    assert response.status_code == 201, response.text
    [counselling] = response.json()["recommendations"]
    response = await team.service.call("POST", f"/diagnoses/{did}/complete", team.coordinator)
    assert response.status_code == 200, response.text
    assert (response.json()["round"], response.json()["revision"]) == (2, 2)

    # The review concludes as the next revision, with the full set: referrals routes what is new.
    [event] = await tap.wait_for(case.case_id, "diagnosis.revised.v1")
    assert (event.data["round"], event.data["revision"], event.data["removed"]) == (2, 2, [])
    assert {r["recommendation_id"] for r in event.data["recommendations"]} == {
        therapy,
        counselling,
    }
    assert {n["area"] for n in event.data["needs"]} == {"addiction", "employment"}
    assert len(tap.about(case.case_id, "diagnosis.completed.v1")) == 1
    assert (await team.read(did))["status"] == "completed"


async def test_a_review_can_be_concluded_by_a_revision_and_not_after_the_round_closed(
    team: Team, tap: EventTap
) -> None:
    case, diagnosis = await team.open_case()
    did = diagnosis["diagnosis_id"]
    response = await team.assess(
        did,
        team.member(team.members[0]),
        recommendations=[{"support_type": "psychologist"}, {"support_type": "meals"}],
    )
    psychologist, _ = response.json()["recommendations"]
    await team.service.call("POST", f"/diagnoses/{did}/complete", team.coordinator)
    for event, sequence in ((closing(case, 1), 2), (reopening(case, 2), 3)):
        envelope = await publish(
            team.amqp, team.settings, event, service="intake", sequence=sequence
        )
        await eventually(lambda e=envelope: handled(team.pool, e.id), what=event.routing_key)
    revise = f"/diagnoses/{did}/revisions"
    response = await team.service.call(
        "POST", revise, team.coordinator, json={"remove": [psychologist]}
    )
    assert response.status_code == 200, response.text
    [event] = await tap.wait_for(case.case_id, "diagnosis.revised.v1")
    assert (event.data["round"], event.data["removed"]) == (2, [psychologist])
    assert (await team.read(did))["status"] == "completed"

    envelope = await publish(
        team.amqp, team.settings, closing(case, 2), service="intake", sequence=4
    )
    await eventually(lambda: handled(team.pool, envelope.id), what="the second closing")
    response = await team.service.call(
        "POST",
        revise,
        team.coordinator,
        json={"add": [{"support_type": "meals", "need_area": "addiction"}]},
    )
    assert_problem(response, 409, "status", "case_closed")


@pytest.mark.parametrize("order", [[0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2], [2, 0, 3, 1]], ids=str)
async def test_closings_and_reopenings_in_any_order_settle_on_the_last_round(
    team: Team, order: list[int]
) -> None:
    case, diagnosis = await team.open_case()
    did = diagnosis["diagnosis_id"]
    await team.assess(
        did, team.member(team.members[0]), recommendations=[{"support_type": "meals"}]
    )
    await team.service.call("POST", f"/diagnoses/{did}/complete", team.coordinator)
    story = [closing(case, 1), reopening(case, 2), closing(case, 2), reopening(case, 3)]
    ids = []
    for i in order:
        envelope = await publish(
            team.amqp, team.settings, story[i], service="intake", sequence=i + 2
        )
        ids.append(envelope.id)
        # The same fact again, as a producer's retry would send it under a new id.
        if i == order[0]:
            again = await publish(
                team.amqp, team.settings, story[i], service="intake", sequence=i + 2
            )
            ids.append(again.id)
    await eventually(lambda: handled(team.pool, *ids), what="the whole story")
    found = await team.read(did)
    assert (found["status"], found["round"], found["in_review"]) == ("open", 3, True)


async def test_listing_by_an_unknown_status_is_refused_naming_it(team: Team) -> None:
    response = await team.service.call(
        "GET", "/diagnoses", team.coordinator, params={"status": "forgotten"}
    )
    assert_problem(response, 422, "status", "validation_failed")


async def test_retried_assessment_and_revision_with_a_key_have_one_effect(
    team: Team, tap: EventTap
) -> None:
    case, diagnosis = await team.open_case()
    did = diagnosis["diagnosis_id"]
    member = {**team.member(team.members[0]), "Idempotency-Key": "assessment-1"}
    body = {"need_area": "housing", "severity": 2, "recommendations": [{"support_type": "meals"}]}
    first, again = [
        await team.service.call("POST", f"/diagnoses/{did}/assessments", member, json=body)
        for _ in range(2)
    ]
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    body["severity"] = 3
    changed = await team.service.call("POST", f"/diagnoses/{did}/assessments", member, json=body)
    assert_problem(changed, 422, "Idempotency-Key", "idempotency_key_reused")
    assert len((await team.read(did))["assessments"]) == 1

    await team.service.call("POST", f"/diagnoses/{did}/complete", team.coordinator)
    coordinator = {**team.coordinator, "Idempotency-Key": "review-1"}
    revision = {"add": [{"support_type": "housing_help", "need_area": "housing"}]}
    answers = [
        await team.service.call("POST", f"/diagnoses/{did}/revisions", coordinator, json=revision)
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json() == answers[1].json()
    stored = await team.read(did)
    assert stored["revision"] == 2 and len(stored["recommendations"]) == 2
    await tap.wait_for(case.case_id, "diagnosis.revised.v1")
    assert len(tap.about(case.case_id, "diagnosis.revised.v1")) == 1


async def test_lists_show_the_diagnoses_of_my_teams_and_my_territory_only(team: Team) -> None:
    case, diagnosis = await team.open_case()
    query = {"case_id": str(case.case_id)}

    async def listed(who: dict[str, str]) -> list[str]:
        r = await team.service.call("GET", "/diagnoses", who, params=query)
        assert r.status_code == 200, r.text
        return [d["diagnosis_id"] for d in r.json()]

    mine = [diagnosis["diagnosis_id"]]
    g = terc().gmina(team.gmina)
    assert await listed(team.member(team.members[0])) == mine
    assert await listed(team.service.as_(Role.COORDINATOR, powiat=g.powiat)) == mine
    assert await listed(team.service.as_(Role.COORDINATOR, region=g.region)) == mine
    assert await listed(team.member(uuid4())) == []
    assert await listed(team.service.as_(Role.COORDINATOR, region="06")) == []


def consent_withdrawn(case: CaseOpened) -> CaseConsentWithdrawn:
    return CaseConsentWithdrawn(case_id=case.case_id, place=case.place, withdrawn_on=date.today())


async def test_after_consent_is_withdrawn_the_team_adds_nothing_until_it_is_given_again(
    team: Team,
) -> None:
    case, diagnosis = await team.open_case()
    did = diagnosis["diagnosis_id"]
    member = team.member(team.members[0])
    recommend = [{"support_type": "addiction_therapy", "priority": 1}]
    assert (await team.assess(did, member, recommendations=recommend)).status_code == 201

    withdrawal = consent_withdrawn(case)
    ids = [  # the same fact twice (a producer retry under a new id)
        (await publish(team.amqp, team.settings, withdrawal, service="intake", sequence=2)).id
        for _ in range(2)
    ]
    await eventually(lambda: handled(team.pool, *ids), what="the withdrawal")
    for who in (member, team.coordinator):
        assert_problem(await team.assess(did, who), 409, "consent", "consent_withdrawn")
    response = await team.service.call("POST", f"/diagnoses/{did}/complete", team.coordinator)
    assert_problem(response, 409, "consent", "consent_withdrawn")
    stored = await team.read(did)
    assert stored["consent_withdrawn_on"] == date.today().isoformat()
    assert (stored["status"], len(stored["assessments"])) == ("open", 1)

    again = await publish(
        team.amqp, team.settings, consent_given(case), service="intake", sequence=3
    )
    await eventually(lambda: handled(team.pool, again.id), what="consent given again")
    assert (await team.assess(did, member, need_area="housing")).status_code == 201
    response = await team.service.call("POST", f"/diagnoses/{did}/complete", team.coordinator)
    assert response.status_code == 200, response.text
    assert (await team.read(did))["consent_withdrawn_on"] is None


async def test_withdrawal_and_consent_given_again_settle_on_the_later_in_any_order(
    team: Team,
) -> None:
    """withdrawn (2), given again (3), withdrawn again (4), arriving 4, 2, 3 for one case and
    3, 2 for another: the first stays withdrawn, the second shared."""
    first, first_diagnosis = await team.open_case()
    second, second_diagnosis = await team.open_case()
    ids = [
        (await publish(team.amqp, team.settings, event, service="intake", sequence=seq)).id
        for event, seq in (
            (consent_withdrawn(first), 4),
            (consent_withdrawn(first), 2),
            (consent_given(first), 3),
            (consent_given(second), 3),
            (consent_withdrawn(second), 2),
        )
    ]
    await eventually(lambda: handled(team.pool, *ids), what="all the consent events")
    member = team.member(team.members[1])
    response = await team.assess(first_diagnosis["diagnosis_id"], member)
    assert_problem(response, 409, "consent", "consent_withdrawn")
    assert (await team.assess(second_diagnosis["diagnosis_id"], member)).status_code == 201


async def test_a_list_is_read_a_page_at_a_time_with_who_has_assessed_each(team: Team) -> None:
    opened = [(await team.open_case())[1] for _ in range(3)]
    first, second = team.members
    await team.assess(opened[0]["diagnosis_id"], team.member(first))
    await team.assess(opened[0]["diagnosis_id"], team.member(second))
    await team.assess(opened[0]["diagnosis_id"], team.member(first), need_area="housing")
    await team.assess(opened[1]["diagnosis_id"], team.member(second))

    async def page(offset: int) -> list[dict[str, Any]]:
        r = await team.service.call(
            "GET",
            "/diagnoses",
            team.coordinator,
            params={"status": "open", "limit": 2, "offset": offset},
        )
        assert r.status_code == 200, r.text
        return r.json()

    rows = [*await page(0), *await page(2)]
    assert len(await page(0)) == 2 and await page(4) == []
    # newest first: the team's own gmina holds only these three
    assert [r["diagnosis_id"] for r in rows] == [d["diagnosis_id"] for d in reversed(opened)]
    seen = {r["diagnosis_id"]: r for r in rows}
    one, two, three = (seen[d["diagnosis_id"]] for d in opened)
    assert (one["assessments"], sorted(one["institutions_assessed"])) == (
        3,
        sorted([str(first), str(second)]),
    )
    assert (two["assessments"], two["institutions_assessed"]) == (1, [str(second)])
    assert (three["assessments"], three["institutions_assessed"]) == (0, [])
    for params, field in (({"limit": 0}, "limit"), ({"offset": -1}, "offset")):
        r = await team.service.call("GET", "/diagnoses", team.coordinator, params=params)
        assert_problem(r, 422, field)


# --- the individual support plan (IPW) --------------------------------------------------------


async def completed_with(team: Team, *support_types: str) -> tuple[CaseOpened, str, list[str]]:
    """A case whose diagnosis is completed with one recommendation per support type."""
    case, diagnosis = await team.open_case()
    did = diagnosis["diagnosis_id"]
    response = await team.assess(
        did,
        team.member(team.members[0]),
        need_area="parenting",
        recommendations=[{"support_type": t} for t in support_types],
    )
    assert response.status_code == 201, response.text
    recommended = response.json()["recommendations"]
    response = await team.service.call("POST", f"/diagnoses/{did}/complete", team.coordinator)
    assert response.status_code == 200, response.text
    return case, did, recommended


def a_goal(*supports: str, **fields: Any) -> dict[str, Any]:
    today = date.today()
    return {
        "area": "parenting",
        "supports": list(supports),
        "due_on": (today + timedelta(days=120)).isoformat(),
        "review_on": (today + timedelta(days=60)).isoformat(),
        **fields,
    }


async def test_the_coordinator_records_the_plan_the_family_agreed_to_once(
    team: Team, tap: EventTap
) -> None:
    case, did, [assistant, workshops] = await completed_with(
        team, "family_assistant", "parenting_workshops"
    )
    plan_path = f"/diagnoses/{did}/plan"
    today = date.today().isoformat()
    child = uuid4()
    body = {
        "agreed_on": today,
        "social_contract_on": today,
        "goals": [
            a_goal(assistant, description="Mama prowadzi dom bez pomocy sąsiadki"),
            a_goal(
                workshops, member_id=str(child), responsible_institution_id=str(team.members[1])
            ),
        ],
    }
    for bad, field, code in (
        (
            {**body, "goals": [a_goal(str(uuid4()))]},
            "goals[0].supports[0]",
            "unknown_recommendation",
        ),
        ({**body, "goals": [a_goal(area="housing")]}, "goals[0].area", "need_not_assessed"),
        (
            {**body, "goals": [a_goal(responsible_institution_id=str(uuid4()))]},
            "goals[0].responsible_institution_id",
            "not_in_partnership",
        ),
        ({**body, "goals": []}, "goals", None),
        ({**body, "agreed_on": "jutro"}, "agreed_on", None),
    ):
        response = await team.service.call("POST", plan_path, team.coordinator, json=bad)
        assert_problem(response, 422, field, code)
    member = team.member(team.members[0])
    assert (await team.service.call("POST", plan_path, member, json=body)).status_code == 403
    response = await team.service.call("GET", plan_path, team.coordinator)
    assert_problem(response, 404, None, "plan_not_found")

    key = {"Idempotency-Key": str(uuid4())}
    answers = [
        await team.service.call("POST", plan_path, team.coordinator, json=body, headers=key)
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201], answers[0].text
    assert answers[0].json() == answers[1].json()
    plan = answers[0].json()
    assert (plan["version"], plan["social_contract_on"], len(plan["history"])) == (1, today, 1)
    assert [g["supports"][0]["support_type"] for g in plan["goals"]] == [
        "family_assistant",
        "parenting_workshops",
    ]
    response = await team.service.call("POST", plan_path, team.coordinator, json=body)
    assert_problem(response, 409, "plan", "plan_exists")

    [event] = await tap.wait_for(case.case_id, "plan.agreed.v1")
    assert event.data["plan_id"] == plan["plan_id"] and event.data["version"] == 1
    [first, second] = event.data["goals"]
    assert (first["member_id"], first["responsible_institution_id"]) == (None, None)
    assert (second["member_id"], second["responsible_institution_id"]) == (
        str(child),
        str(team.members[1]),
    )
    assert {(s["recommendation_id"], s["goal_id"]) for s in event.data["supports"]} == {
        (assistant, first["goal_id"]),
        (workshops, second["goal_id"]),
    }
    assert "sąsiadki" not in event.to_bytes().decode()
    # Readers: the gmina's caseworker, the PZK's members; a neighbour sees nothing.
    caseworker = team.service.as_(Role.CASEWORKER, gmina=team.gmina)
    for who in (caseworker, member):
        response = await team.service.call("GET", plan_path, who)
        assert response.status_code == 200 and response.json() == plan, response.text
    neighbour = team.service.as_(Role.COORDINATOR, gmina=GMINAS.fresh())
    assert (await team.service.call("GET", plan_path, neighbour)).status_code == 404


async def test_a_revised_plan_keeps_its_history_and_says_what_it_dropped(
    team: Team, tap: EventTap
) -> None:
    case, did, [assistant, workshops, meals] = await completed_with(
        team, "family_assistant", "parenting_workshops", "meals"
    )
    plan_path = f"/diagnoses/{did}/plan"
    today = date.today().isoformat()
    response = await team.service.call(
        "POST",
        plan_path,
        team.coordinator,
        json={"agreed_on": today, "goals": [a_goal(assistant), a_goal(workshops)]},
    )
    assert response.status_code == 201, response.text
    kept, dropped = response.json()["goals"]

    # The diagnosis cannot drop what the plan holds; the plan is revised instead.
    response = await team.service.call(
        "POST", f"/diagnoses/{did}/revisions", team.coordinator, json={"remove": [workshops]}
    )
    assert_problem(response, 409, "remove[0]", "recommendation_in_plan")
    revision = {
        "revised_on": today,
        "goals": [a_goal(assistant, meals, goal_id=kept["goal_id"])],
    }
    response = await team.service.call(
        "POST", f"{plan_path}/revisions", team.coordinator, json=revision
    )
    assert response.status_code == 200, response.text
    plan = response.json()
    assert plan["version"] == 2 and [h["version"] for h in plan["history"]] == [1, 2]
    assert [g["goal_id"] for g in plan["history"][0]["goals"]] == [
        kept["goal_id"],
        dropped["goal_id"],
    ]
    assert [s["recommendation_id"] for s in plan["goals"][0]["supports"]] == [assistant, meals]
    response = await team.service.call(
        "POST", f"{plan_path}/revisions", team.coordinator, json=revision
    )
    assert_problem(response, 422, "goals", "empty_revision")

    [event] = await tap.wait_for(case.case_id, "plan.revised.v1")
    assert (event.data["version"], event.data["removed"]) == (2, [workshops])
    assert event.data["removed_goals"] == [dropped["goal_id"]]
    assert {s["recommendation_id"] for s in event.data["supports"]} == {assistant, meals}

    # Its goals are reviewed; the latest review stands.
    review = f"{plan_path}/goals/{kept['goal_id']}/reviews"
    for result, note in (("in_progress", "Pierwsze spotkania odbyte."), ("met", "")):
        response = await team.service.call(
            "POST",
            review,
            team.coordinator,
            json={"reviewed_on": today, "result": result, "note": note},
        )
        assert response.status_code == 201, response.text
        assert response.json()["note"] == note
    response = await team.service.call(
        "POST",
        f"{plan_path}/goals/{dropped['goal_id']}/reviews",
        team.coordinator,
        json={"reviewed_on": today, "result": "met"},
    )
    assert_problem(response, 404, None, "goal_not_found")
    plan = (await team.service.call("GET", plan_path, team.coordinator)).json()
    assert plan["goals"][0]["last_review"] == "met"
    assert [(r["result"], r["note"]) for r in plan["reviews"]] == [
        ("in_progress", "Pierwsze spotkania odbyte."),
        ("met", ""),
    ]
    reviewed = await tap.wait_for(case.case_id, "plan.goal_reviewed.v1", count=2)
    assert [(e.data["area"], e.data["result"]) for e in reviewed] == [
        ("parenting", "in_progress"),
        ("parenting", "met"),
    ]


# --- notes: special-category data (RODO art. 9) -----------------------------------------------


async def test_notes_are_read_with_a_reason_audited_and_within_the_consents_sectors(
    team: Team, amqp: AbstractRobustConnection, settings: Settings
) -> None:
    clinic, school = team.members
    for institution, sector in ((clinic, "health"), (school, "education")):
        envelope = await publish(
            amqp,
            settings,
            InstitutionUpdated(
                institution_id=institution,
                name=f"Instytucja {sector}",
                sector=sector,
                support_types=["psychologist"],
                gminas=[team.gmina],
            ),
        )
        await eventually(lambda e=envelope: handled(team.pool, e.id), what="the institution")
    case = case_opened(team.gmina).model_copy(update={"consent_scope": [Sector.HEALTH]})
    await publish(amqp, settings, case, service="intake", sequence=1)
    did = (await team.diagnosis_of(case.case_id))["diagnosis_id"]
    assert (await team.assess(did, team.member(clinic), notes=NOTE)).status_code == 201
    notes = f"/diagnoses/{did}/notes"
    why = {"X-Access-Reason": "przygotowanie spotkania PZK"}

    response = await team.service.call("GET", notes, team.member(clinic))
    assert_problem(response, 422, "X-Access-Reason", "access_reason_required")
    caseworker = team.service.as_(Role.CASEWORKER, subject="pracownik-1", gmina=team.gmina)
    for who in (team.member(clinic), caseworker, team.coordinator):
        response = await team.service.call("GET", notes, who, headers=why)
        assert response.status_code == 200, response.text
        assert [n["notes"] for n in response.json()["notes"]] == [NOTE]
    response = await team.service.call("GET", notes, team.member(school), headers=why)
    assert_problem(response, 403, None, "notes_outside_consent")
    assert NOTE not in response.text
    stranger = team.service.as_(Role.CASEWORKER, gmina=GMINAS.fresh())
    assert (await team.service.call("GET", notes, stranger, headers=why)).status_code == 404

    # Consent given again for another sector moves the right to read with it; a withdrawal
    # ends it for the team (the gmina's own staff still read, audited).
    given = CaseConsentGiven(
        case_id=case.case_id, place=case.place, given_on=date.today(), scope=["education"]
    )
    withdrawal = consent_withdrawn(case)
    envelope = await publish(amqp, settings, given, service="intake", sequence=3)
    await eventually(lambda: handled(team.pool, envelope.id), what="consent for education")
    assert (await team.service.call("GET", notes, team.member(school), headers=why)).is_success
    response = await team.service.call("GET", notes, team.member(clinic), headers=why)
    assert_problem(response, 403, None, "notes_outside_consent")
    envelope = await publish(amqp, settings, withdrawal, service="intake", sequence=4)
    await eventually(lambda: handled(team.pool, envelope.id), what="the withdrawal")
    response = await team.service.call("GET", notes, team.member(school), headers=why)
    assert_problem(response, 403, None, "consent_withdrawn")
    assert (await team.service.call("GET", notes, caseworker, headers=why)).is_success

    response = await team.service.call(
        "GET", "/audit", team.coordinator, params={"case_id": str(case.case_id)}
    )
    assert response.status_code == 200, response.text
    reads = [(e["role"], e["access"], e["purpose"]) for e in reversed(response.json())]
    assert reads == [
        ("team_member", "diagnosis_notes", why["X-Access-Reason"]),
        ("caseworker", "diagnosis_notes", why["X-Access-Reason"]),
        ("coordinator", "diagnosis_notes", why["X-Access-Reason"]),
        ("team_member", "diagnosis_notes", why["X-Access-Reason"]),
        ("caseworker", "diagnosis_notes", why["X-Access-Reason"]),
    ]
    with pytest.raises(asyncpg.RaiseError):
        await team.pool.execute(
            "UPDATE audit_log SET purpose = 'nic' WHERE case_id = $1", case.case_id
        )
    with pytest.raises(asyncpg.RaiseError):
        await team.pool.execute("DELETE FROM audit_log WHERE case_id = $1", case.case_id)


async def test_intakes_anonymisation_erases_the_notes_goals_and_reviews_in_words_once(
    team: Team, amqp: AbstractRobustConnection, settings: Settings
) -> None:
    case, diagnosis = await team.open_case()
    did = diagnosis["diagnosis_id"]
    response = await team.assess(
        did,
        team.member(team.members[0]),
        need_area="parenting",
        notes=NOTE,
        recommendations=[{"support_type": "family_assistant"}],
    )
    [assistant] = response.json()["recommendations"]
    await team.service.call("POST", f"/diagnoses/{did}/complete", team.coordinator)
    goal = a_goal(assistant, description="Syn wraca do szkoły po terapii ojca")
    response = await team.service.call(
        "POST",
        f"/diagnoses/{did}/plan",
        team.coordinator,
        json={"agreed_on": date.today().isoformat(), "goals": [goal]},
    )
    assert response.status_code == 201, response.text
    goal_id = response.json()["goals"][0]["goal_id"]
    response = await team.service.call(
        "POST",
        f"/diagnoses/{did}/plan/goals/{goal_id}/reviews",
        team.coordinator,
        json={"reviewed_on": date.today().isoformat(), "result": "not_met", "note": NOTE},
    )
    assert response.status_code == 201, response.text

    anonymised = CaseAnonymised(case_id=case.case_id, place=case.place, anonymised_on=date.today())
    ids = [
        (await publish(amqp, settings, anonymised, service="intake", sequence=n)).id
        for n in (9, 9)  # announced twice (a producer retry under a new id)
    ]
    await eventually(lambda: handled(team.pool, *ids), what="the anonymisation")
    why = {"reason": "kontrola"}
    response = await team.service.call(
        "GET", f"/diagnoses/{did}/notes", team.coordinator, params=why
    )
    assert response.status_code == 200 and response.json()["notes"] == [], response.text
    plan = (await team.service.call("GET", f"/diagnoses/{did}/plan", team.coordinator)).json()
    assert [g["description"] for g in plan["goals"]] == [""]
    assert [g["description"] for g in plan["history"][0]["goals"]] == [""]
    assert [(r["result"], r["note"]) for r in plan["reviews"]] == [("not_met", "")]
    stored = await team.read(did)  # the codes stay: needs, recommendations, the plan's goals
    assert [a["need_area"] for a in stored["assessments"]] == ["parenting"]
    assert plan["goals"][0]["supports"][0]["recommendation_id"] == assistant
    response = await team.service.call(
        "GET", "/audit", team.coordinator, params={"case_id": str(case.case_id)}
    )
    assert [e["access"] for e in response.json()].count("anonymised") == 1


def transfer(case: CaseOpened, to: str, *, from_: str | None = None) -> CaseTransferred:
    return CaseTransferred(
        case_id=case.case_id,
        place=place_of(to),
        from_place=place_of(from_) if from_ else case.place,
        transferred_on=date.today(),
    )


async def test_a_transferred_case_takes_its_diagnosis_and_plan_to_the_receiving_gminas_pzk(
    team: Team,
    diagnosis: Service,
    amqp: AbstractRobustConnection,
    settings: Settings,
    diagnosis_db: asyncpg.Pool,
    tap: EventTap,
) -> None:
    receiving = Team(diagnosis, amqp, settings, diagnosis_db)
    await receiving.announce(receiving.members)
    case, did, [assistant] = await completed_with(team, "family_assistant")
    today = date.today().isoformat()
    body = {"agreed_on": today, "goals": [a_goal(assistant, description="Dzieci wracają")]}
    r = await team.service.call("POST", f"/diagnoses/{did}/plan", team.coordinator, json=body)
    assert r.status_code == 201, r.text

    moved = transfer(case, receiving.gmina)
    ids = [
        (await publish(amqp, settings, moved, service="intake", sequence=2)).id for _ in range(2)
    ]  # the same fact twice, under two ids
    await eventually(lambda: handled(team.pool, *ids), what="the transfer")

    paths = [f"/diagnoses/{did}", f"/diagnoses/{did}/plan", f"/cases/{case.case_id}/diagnosis"]
    reason = {"reason": "przejęcie sprawy"}
    there = {
        "coordinator": receiving.coordinator,
        "caseworker": diagnosis.as_(Role.CASEWORKER, gmina=receiving.gmina),
    }
    here = {
        "coordinator": team.coordinator,
        "caseworker": diagnosis.as_(Role.CASEWORKER, gmina=team.gmina),
    }
    for role, who in there.items():
        # (a caseworker reads the case's diagnosis and plan, not the PZK's workspace)
        for path in paths[role == "caseworker" :]:
            r = await diagnosis.call("GET", path, who)
            assert r.status_code == 200, (path, r.text)
        r = await diagnosis.call("GET", f"/diagnoses/{did}/notes", who, params=reason)
        assert r.status_code == 200, r.text
    for who in here.values():
        for path in [*paths, f"/diagnoses/{did}/notes"]:
            r = await diagnosis.call("GET", path, who, params=reason)
            assert r.status_code in (403, 404), (path, r.text)
    # the receiving PZK's members see it, the sending one's no longer
    r = await diagnosis.call("GET", f"/diagnoses/{did}", receiving.member(receiving.members[0]))
    assert r.status_code == 200, r.text
    r = await diagnosis.call("GET", f"/diagnoses/{did}", team.member(team.members[0]))
    assert r.status_code in (403, 404), r.text
    listed = await diagnosis.call(
        "GET", "/diagnoses", team.coordinator, params={"case_id": str(case.case_id)}
    )
    assert listed.json() == [], listed.text

    # the receiving gmina's coordinator goes on with the plan; its events say where it is now
    revision = {
        "revised_on": today,
        "goals": [a_goal(assistant, description="Dzieci wracają do szkoły")],
    }
    path = f"/diagnoses/{did}/plan/revisions"
    r = await diagnosis.call("POST", path, team.coordinator, json=revision)
    assert r.status_code in (403, 404), r.text
    r = await diagnosis.call("POST", path, receiving.coordinator, json=revision)
    assert r.status_code == 200 and r.json()["gmina"] == receiving.gmina, r.text
    [revised] = await tap.wait_for(case.case_id, "plan.revised.v1")
    assert revised.data["place"]["gmina"] == receiving.gmina


async def test_a_transfer_arriving_before_the_opening_opens_the_diagnosis_where_the_case_is(
    team: Team,
    diagnosis: Service,
    amqp: AbstractRobustConnection,
    settings: Settings,
) -> None:
    receiving, third = GMINAS.fresh(), GMINAS.fresh()
    case = case_opened(team.gmina)
    ids = [
        (await publish(amqp, settings, e, service="intake", sequence=n)).id
        for e, n in (
            (transfer(case, receiving), 3),  # the latest word first
            (case, 1),
            (transfer(case, third), 2),  # an older transfer arriving late changes nothing
        )
    ]
    await eventually(lambda: handled(team.pool, *ids), what="the case's events")
    there = diagnosis.as_(Role.COORDINATOR, gmina=receiving)
    r = await diagnosis.call("GET", "/diagnoses", there, params={"case_id": str(case.case_id)})
    [found] = r.json()
    assert found["status"] == "open"
    for gmina in (team.gmina, third):
        who = diagnosis.as_(Role.COORDINATOR, gmina=gmina)
        r = await diagnosis.call("GET", f"/diagnoses/{found['diagnosis_id']}", who)
        assert r.status_code in (403, 404), r.text
