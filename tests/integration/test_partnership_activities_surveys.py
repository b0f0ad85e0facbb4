"""The partnership's group activities and its members' survey on the real database and broker:
a senior club registered and its sessions recorded (ids, dates, codes and minutes in events; its
title stays here); a survey round answered anonymously once per representative, its answers
kept as counts only, shown and published only when enough answered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from uuid import UUID, uuid4

import asyncpg
import pytest
from aio_pika.abc import AbstractRobustConnection

from services.partnership.app import spec as partnership_spec
from shared.auth import Role
from shared.codes import SurveyQuestion
from shared.db import create_pool
from shared.settings import Settings
from tests.integration.service_under_test import EventTap, Gminas, Service, running, tapped
from tests.integration.test_partnership_service import Partnership, problem, register

pytestmark = pytest.mark.integration
GMINAS = Gminas("28")  # warmińsko-mazurskie: this module's own gminas
NAME = "partnershipgroups"
TODAY = date.today()


@pytest.fixture(scope="module")
async def service(settings: Settings) -> AsyncIterator[Service]:
    async with running(partnership_spec, NAME, 34, settings) as started:
        yield started


@pytest.fixture(scope="module")
async def tap(amqp: AbstractRobustConnection, settings: Settings) -> AsyncIterator[EventTap]:
    async with tapped(amqp, settings) as events:
        yield events


@pytest.fixture(scope="module")
async def db(settings: Settings, service: Service) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(settings.database_url(NAME))
    yield pool
    await pool.close()


async def test_a_senior_club_and_its_sessions_in_events_without_its_title(
    service: Service, tap: EventTap
) -> None:
    gmina = GMINAS.fresh()
    coordinator = service.as_(Role.COORDINATOR, gmina=gmina)
    body = {"gmina": gmina, "activity_type": "club", "title": "Klub Seniora w Kobylinie-Borzymach",
            "started_on": (TODAY - timedelta(days=30)).isoformat()}  # fmt: skip
    key = {"Idempotency-Key": f"club-{gmina}"}
    r = await service.call("POST", "/activities", coordinator, json=body, headers=key)
    assert r.status_code == 201, r.text
    again = await service.call("POST", "/activities", coordinator, json=body, headers=key)
    assert again.json() == r.json()
    club = r.json()["activity_id"]
    for days_ago, minutes in ((28, 90), (21, 90), (14, 120)):
        s = await service.call("POST", f"/activities/{club}/sessions", coordinator,
                               json={"held_on": (TODAY - timedelta(days=days_ago)).isoformat(),
                                     "minutes": minutes})  # fmt: skip
        assert s.status_code == 201, s.text
    assert (s.json()["sessions"], s.json()["hours"]) == (3, 5.0)

    registered = await tap.wait_for(club, "activity.registered.v1")
    held = await tap.wait_for(club, "activity.session_held.v1", count=3)
    assert len(tap.about(club, "activity.registered.v1")) == 1  # the retry registered nothing
    assert sorted(e.data["minutes"] for e in held) == [90, 90, 120]
    assert registered[0].data["activity_type"] == "club"
    for e in (*registered, *held):
        assert b"Kobylin" not in e.to_bytes() and b"Seniora" not in e.to_bytes()

    caseworker = service.as_(Role.CASEWORKER, gmina=gmina)
    listed = await service.call("GET", "/activities", caseworker, params={"gmina": gmina})
    assert [a["title"] for a in listed.json()] == ["Klub Seniora w Kobylinie-Borzymach"]
    one = await service.call("GET", f"/activities/{club}", caseworker)
    assert [x["minutes"] for x in one.json()["held"]] == [90, 90, 120]

    early = await service.call("POST", f"/activities/{club}/sessions", coordinator,
                               json={"held_on": (TODAY - timedelta(days=40)).isoformat(),
                                     "minutes": 60})  # fmt: skip
    problem(early, 422, "held_before_start", "held_on")
    future = await service.call("POST", f"/activities/{club}/sessions", coordinator,
                                json={"held_on": (TODAY + timedelta(days=1)).isoformat(),
                                      "minutes": 60})  # fmt: skip
    problem(future, 422, "held_on_in_future", "held_on")
    r = await service.call("POST", f"/activities/{club}/sessions", caseworker,
                           json={"held_on": TODAY.isoformat(), "minutes": 60})  # fmt: skip
    assert r.status_code == 403, r.text
    neighbour = service.as_(Role.COORDINATOR, gmina=GMINAS.fresh())
    r = await service.call("GET", f"/activities/{club}", neighbour)
    assert r.status_code == 403, r.text


def all_answers(value: int) -> dict[str, int]:
    return {str(q): value for q in SurveyQuestion}


async def test_a_survey_round_anonymous_once_each_and_withheld_when_small(
    service: Service,
    tap: EventTap,
    amqp: AbstractRobustConnection,
    settings: Settings,
    db: asyncpg.Pool,
) -> None:
    partnership = Partnership(service, GMINAS.fresh())
    institutions = [await register(amqp, settings, db, partnership.gmina) for _ in range(3)]
    await partnership.form(institutions, signed_on=TODAY - timedelta(days=60))
    for i in range(6):
        r = await partnership.post("/representatives", {
            "institution_id": str(institutions[i % 3]), "name": f"Osoba Reprezentująca {i}",
            "function": "specjalista", "email": f"osoba{i}@example.pl",
            "since": (TODAY - timedelta(days=50)).isoformat(),
        })  # fmt: skip
        assert r.status_code == 201, r.text
    coordinator = partnership.coordinator
    r = await service.call(
        "POST", "/surveys/rounds", coordinator, json={"gmina": partnership.gmina}
    )
    assert r.status_code == 201, r.text
    survey = r.json()
    assert survey["invited"] == 6 and survey["respondents"] == 0 and survey["results"] is None
    again = await service.call("POST", "/surveys/rounds", coordinator,
                               json={"gmina": partnership.gmina})  # fmt: skip
    problem(again, 409, "round_open")
    round_id = survey["round_id"]
    path = f"/surveys/rounds/{round_id}/answers"

    def member(i: int) -> dict[str, str]:
        institution = str(institutions[i % 3])
        return service.as_(Role.TEAM_MEMBER, subject=f"przedstawiciel-{i}",
                           gmina=partnership.gmina, institution=institution)  # fmt: skip

    given = [5, 4, 4, 3, 5]
    for i, value in enumerate(given):
        key = {"Idempotency-Key": f"answer-{i}"}
        r = await service.call("POST", path, member(i), json={"answers": all_answers(value)},
                               headers=key)  # fmt: skip
        assert r.status_code == 201 and r.json() == {"round_id": round_id, "answered": True}, r.text
        retry = await service.call("POST", path, member(i), json={"answers": all_answers(1)},
                                   headers=key)  # fmt: skip
        assert retry.json() == r.json()  # a retry answers as the first, adds nothing
    twice = await service.call("POST", path, member(0), json={"answers": all_answers(1)})
    problem(twice, 409, "already_answered")
    partial = await service.call("POST", path, member(5), json={"answers": {"goals_clear": 4}})
    assert partial.status_code == 422 and partial.json()["field"].startswith("answers."), (
        partial.text
    )
    odd = await service.call("POST", path, member(5), json={"answers": all_answers(7)})
    problem(odd, 422, "answer_out_of_scale")
    stranger = service.as_(Role.TEAM_MEMBER, subject="obcy", gmina=partnership.gmina,
                           institution=str(uuid4()))  # fmt: skip
    r = await service.call("POST", path, stranger, json={"answers": all_answers(3)})
    assert r.status_code == 403, r.text

    # while open: counts of respondents only, no results; nothing stored ties answers to a person
    rounds = await service.call("GET", "/surveys/rounds", member(0),
                                params={"gmina": partnership.gmina})  # fmt: skip
    [mine] = rounds.json()
    assert mine["respondents"] == 5 and mine["results"] is None and mine["answered_by_you"] is True
    stored = await db.fetch("SELECT * FROM survey_respondents WHERE round_id = $1", UUID(round_id))
    assert len(stored) == 5 and not any("przedstawiciel" in str(dict(r)) for r in stored)
    counts = await db.fetch("SELECT * FROM survey_answer_counts WHERE round_id = $1",
                            UUID(round_id))  # fmt: skip
    assert set(counts[0].keys()) == {"round_id", "question", "answer", "n"}
    kept = await db.fetch(
        "SELECT body::text AS body FROM idempotency_keys WHERE key LIKE 'answer-%'"
    )
    assert kept and not any("goals_clear" in r["body"] for r in kept)

    r = await service.call("POST", f"/surveys/rounds/{round_id}/close", coordinator, json={})
    assert r.status_code == 200, r.text
    closed = r.json()
    [goals] = [q for q in closed["results"] if q["question"] == "goals_clear"]
    assert goals["counts"] == {"1": 0, "2": 0, "3": 1, "4": 2, "5": 2} and goals["mean"] == 4.2
    [event] = await tap.wait_for(round_id, "survey.round_closed.v1")
    assert (event.data["respondents"], event.data["invited"], event.data["withheld"]) == (
        5,
        6,
        False,
    )
    [published] = [a for a in event.data["answers"] if a["question"] == "goals_clear"]
    assert published["counts"] == {"1": 0, "2": 0, "3": 1, "4": 2, "5": 2}
    late = await service.call("POST", path, member(5), json={"answers": all_answers(2)})
    problem(late, 409, "round_closed")

    # the next round: two answer, too few to tell anything; withheld here and in the event
    r = await service.call(
        "POST", "/surveys/rounds", coordinator, json={"gmina": partnership.gmina}
    )
    small = r.json()["round_id"]
    for i in (0, 1):
        r = await service.call("POST", f"/surveys/rounds/{small}/answers", member(i),
                               json={"answers": all_answers(2 + i)})  # fmt: skip
        assert r.status_code == 201, r.text
    r = await service.call("POST", f"/surveys/rounds/{small}/close", coordinator, json={})
    assert r.status_code == 200 and r.json()["results"] is None, r.text
    [event] = await tap.wait_for(small, "survey.round_closed.v1")
    assert event.data["withheld"] is True and event.data["answers"] == []
    assert event.data["respondents"] == 2
