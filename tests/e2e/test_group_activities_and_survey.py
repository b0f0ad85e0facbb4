"""End to end, all five services as people drive them: a senior club with its sessions and a
family's members taking part (linked in intake only) counted in reporting; and a survey round
of the team's members aggregated in reporting with suppression, a small round withheld whole."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from shared.auth import Role, issue_token
from shared.codes import SurveyQuestion
from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e

CLUB_GMINA = "0401042"  # Aleksandrów Kujawski (gmina wiejska): this test's own
SURVEY_GMINA = "0401052"  # Bądkowo: the survey test's own
TODAY = date.today()


async def report(api: Api, name: str, who: dict[str, str], **params: Any) -> dict[str, Any]:
    r = await api.call("GET", "reporting", f"/reports/{name}", who, params=params)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def line(table: dict[str, Any], key: str) -> dict[str, Any]:
    [found] = [r for r in table["rows"] if r["key"] == key]
    return found


async def test_a_senior_club_with_sessions_counted_in_reporting(api: Api) -> None:
    coordinator = api.as_(Role.COORDINATOR, gmina=CLUB_GMINA)
    caseworker = api.as_(Role.CASEWORKER, gmina=CLUB_GMINA)
    r = await api.call("POST", "partnership", "/activities", coordinator, json={
        "gmina": CLUB_GMINA, "activity_type": "club", "title": "Klub Seniora",
        "started_on": (TODAY - timedelta(days=60)).isoformat(),
    })  # fmt: skip
    assert r.status_code == 201, r.text
    club = r.json()["activity_id"]
    for days_ago in (50, 43, 36, 29, 22, 15):
        r = await api.call("POST", "partnership", f"/activities/{club}/sessions", coordinator,
                           json={"held_on": (TODAY - timedelta(days=days_ago)).isoformat(),
                                 "minutes": 120})  # fmt: skip
        assert r.status_code == 201, r.text

    seniors = [
        {"first_name": "Stanisław", "last_name": f"Senior{i}", "birth_date": "1948-05-06",
         "sex": "M", "relation": "head"}
        for i in range(6)
    ]  # fmt: skip
    cases = [await api.open_case(CLUB_GMINA, s, reasons=["6"], notified_by="self") for s in seniors]

    async def known() -> bool:
        r = await api.call("GET", "intake", f"/activities/{club}/participants", caseworker)
        return r.status_code == 200

    await api.eventually(known, what="intake to learn of the club")
    for case in cases:
        r = await api.call("GET", "intake", f"/cases/{case}", caseworker,
                           params={"reason": "zapis do klubu seniora"})  # fmt: skip
        person = r.json()["members"][0]["person_id"]
        r = await api.call("POST", "intake", f"/activities/{club}/participants", caseworker,
                           json={"case_id": case, "person_ids": [person]})  # fmt: skip
        assert r.status_code == 200 and r.json()["participants"] == 1, r.text

    async def counted() -> dict[str, Any] | None:
        people = line(await report(api, "activity_participants", coordinator), CLUB_GMINA)
        return people if people["cells"]["club"] == 6 else None

    await api.eventually(counted, what="reporting to count the club's participants", within=30)
    sessions = line(await report(api, "activity_sessions", coordinator), CLUB_GMINA)
    assert sessions["cells"]["club"] == 6 and sessions["hours"]["club"] == 12.0
    activities = line(await report(api, "activities", coordinator), CLUB_GMINA)
    assert activities["cells"] == {"club": 1, "workshop_cycle": 0, "training": 0, "coaching": 0}

    # the region's analyst: protected figures; one club is withheld, six sessions are shown
    # within the noise or withheld (a count up to withheld_up_to may be), never exact by rule
    analyst = api.as_(Role.ANALYST, region="04")
    protected = await report(api, "activities", analyst, gmina=CLUB_GMINA)
    assert line(protected, CLUB_GMINA)["cells"]["club"] is None
    shown = line(await report(api, "activity_sessions", analyst, gmina=CLUB_GMINA), CLUB_GMINA)
    club_sessions = shown["cells"]["club"]
    assert club_sessions is None or abs(club_sessions - 6) <= 2
    assert (shown["hours"]["club"] is None) == (club_sessions is None)


def member(api: Api, i: int, institution: str) -> dict[str, str]:
    token = issue_token(api.settings, subject=f"e2e-przedstawiciel-{i}", role=Role.TEAM_MEMBER,
                        gmina=SURVEY_GMINA, institution=institution)  # fmt: skip
    return {"Authorization": f"Bearer {token}"}


async def test_a_survey_round_aggregated_with_suppression(api: Api) -> None:
    coordinator = api.as_(Role.COORDINATOR, gmina=SURVEY_GMINA)
    institutions = [
        await api.register_institution(SURVEY_GMINA, f"Instytucja ankiety {i}", ["psychologist"])
        for i in range(3)
    ]

    async def formed() -> bool:
        r = await api.call("POST", "partnership", f"/partnerships/{SURVEY_GMINA}/agreements",
                           coordinator, json={"signed_on": (TODAY - timedelta(days=90)).isoformat(),
                                              "parties": institutions})  # fmt: skip
        return r.status_code in (200, 201)

    await api.eventually(formed, what="the partnership to know the institutions", within=30)
    for i in range(12):
        r = await api.call("POST", "partnership", f"/partnerships/{SURVEY_GMINA}/representatives",
                           coordinator, json={
                               "institution_id": institutions[i % 3], "name": f"Osoba {i} Testowa",
                               "function": "specjalista", "email": f"osoba{i}@example.pl",
                               "since": (TODAY - timedelta(days=80)).isoformat()})  # fmt: skip
        assert r.status_code == 201, r.text

    async def a_round(answering: list[int]) -> str:
        r = await api.call("POST", "partnership", "/surveys/rounds", coordinator,
                           json={"gmina": SURVEY_GMINA})  # fmt: skip
        assert r.status_code == 201, r.text
        round_id = r.json()["round_id"]
        for i, value in enumerate(answering):
            answers = {str(q): value for q in SurveyQuestion}
            who = member(api, i, institutions[i % 3])
            r = await api.call("POST", "partnership", f"/surveys/rounds/{round_id}/answers",
                               who, json={"answers": answers})  # fmt: skip
            assert r.status_code == 201, r.text
        r = await api.call("POST", "partnership", f"/surveys/rounds/{round_id}/close",
                           coordinator, json={})  # fmt: skip
        assert r.status_code == 200, r.text
        return round_id

    # eleven answer the first round; two the second (withheld whole: no answers published)
    await a_round([5, 5, 5, 4, 4, 4, 4, 3, 3, 5, 4])
    small = await a_round([1, 2])
    r = await api.call("GET", "partnership", "/surveys/rounds", coordinator,
                       params={"gmina": SURVEY_GMINA})  # fmt: skip
    [shown_small] = [x for x in r.json() if x["round_id"] == small]
    assert shown_small["results"] is None and shown_small["respondents"] == 2

    async def aggregated() -> dict[str, Any] | None:
        responses = line(await report(api, "survey_responses", coordinator), SURVEY_GMINA)
        return responses if responses["cells"]["answered"] == 13 else None

    responses = await api.eventually(aggregated, what="reporting to count the rounds", within=30)
    assert responses["cells"]["not_answered"] == 11  # 12 asked in each round
    answers = await report(api, "survey_answers", coordinator)
    goals = line(answers, "goals_clear")
    # only the first round's answers: the small round never sent any
    assert goals["cells"] == {"1": 0, "2": 0, "3": 2, "4": 5, "5": 4} and goals["total"] == 11
    assert goals["mean"] == 4.2

    analyst = api.as_(Role.ANALYST, region="04")
    protected = await report(api, "survey_answers", analyst, gmina=SURVEY_GMINA)
    assert protected["suppression"]["method"] == "cell-key"
    goals = line(protected, "goals_clear")
    assert goals["cells"]["3"] is None and goals["cells"]["1"] == 0  # two answers: withheld
    if goals["total"] is None:
        assert goals["mean"] is None
    else:
        assert abs(goals["total"] - 11) <= 2 and goals["mean"] == 4.2
