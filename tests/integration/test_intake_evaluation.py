"""Intake's side of the evaluation and group activities on the real database and broker: the
follow-up of a family 3 and 6 months after closing (on the worklist until recorded, its
codes-only event), and the members of a case taking part in a group activity (known only to
intake; the event carries counts)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from uuid import UUID, uuid4

import asyncpg
import pytest
from aio_pika.abc import AbstractRobustConnection

from services.intake.app import spec as intake_spec
from shared.auth import Role
from shared.events import ActivityRegistered
from shared.settings import Settings
from shared.teryt import terc
from tests.integration.conftest import eventually
from tests.integration.service_under_test import EventTap, Service, publish, running, tapped
from tests.integration.test_intake_casefile import REASON, open_case, person

pytestmark = pytest.mark.integration

NAME = "intakeeval"
# Wielkopolskie: no other intake test opens cases there.
GMINAS = iter(sorted(g.code for g in terc().in_region("30")))


@pytest.fixture(scope="module")
async def intake(settings: Settings) -> AsyncIterator[Service]:
    async with running(intake_spec, NAME, 33, settings) as service:
        yield service


@pytest.fixture(scope="module")
async def tap(amqp: AbstractRobustConnection, settings: Settings) -> AsyncIterator[EventTap]:
    async with tapped(amqp, settings) as events:
        yield events


async def closed_days_ago(intake: Service, gmina: str, days: int) -> str:
    """A case of the gmina closed `days` ago (dated back in intake's database: a case can only
    be opened today)."""
    case = await open_case(intake, gmina, person("Anna", "Kontrolna"))
    who = intake.as_(Role.CASEWORKER, gmina=gmina)
    r = await intake.call("POST", f"/cases/{case}/close", who,
                          json={"outcome": "completed_successfully"})  # fmt: skip
    assert r.status_code == 200, r.text
    conn = await asyncpg.connect(intake.settings.database_url(NAME))
    try:
        today = date.today()
        await conn.execute(
            "UPDATE cases SET opened_on = $2, closed_on = $3 WHERE case_id = $1",
            UUID(case), today - timedelta(days=days + 100), today - timedelta(days=days),
        )  # fmt: skip
    finally:
        await conn.close()
    return case


async def test_a_follow_up_is_due_3_and_6_months_after_closing_until_recorded(
    intake: Service, tap: EventTap
) -> None:
    gmina = next(GMINAS)
    who = intake.as_(Role.CASEWORKER, gmina=gmina)
    today = date.today()
    case = await closed_days_ago(intake, gmina, 100)
    closed_on = today - timedelta(days=100)

    r = await intake.call("GET", "/worklist", who, params={"horizon_days": 14})
    items = {(i["case_id"], i["kind"]): i for i in r.json()["items"]}
    three = items[(case, "follow_up_3_months")]
    assert three["overdue"] is True and date.fromisoformat(three["due_on"]) < today
    assert (case, "follow_up_6_months") not in items  # due in about 80 days
    later = await intake.call("GET", "/worklist", who, params={"horizon_days": 100})
    kinds = {(i["case_id"], i["kind"]) for i in later.json()["items"]}
    assert (case, "follow_up_6_months") in kinds

    body = {"months": 3, "sustained": True, "roles": ["economic", "care_and_upbringing"]}
    key = {"Idempotency-Key": f"follow-up-{case}"}
    first = await intake.call("POST", f"/cases/{case}/follow-ups", who, json=body, headers=key)
    assert first.status_code == 201, first.text
    again = await intake.call("POST", f"/cases/{case}/follow-ups", who, json=body, headers=key)
    assert again.status_code == 201 and again.json() == first.json()
    assert first.json()["roles"] == ["care_and_upbringing", "economic"]
    assert first.json()["closed_on"] == closed_on.isoformat()

    [event] = await tap.wait_for(case, "case.follow_up_recorded.v1")
    assert event.data["months"] == 3 and event.data["sustained"] is True
    assert event.data["closed_on"] == closed_on.isoformat() and event.data["round"] == 1
    r = await intake.call("GET", "/worklist", who, params={"horizon_days": 100})
    kinds = {(i["case_id"], i["kind"]) for i in r.json()["items"]}
    assert (case, "follow_up_3_months") not in kinds and (case, "follow_up_6_months") in kinds

    # a correction: the later one stands, and intake's sequence orders the two
    fixed = await intake.call("POST", f"/cases/{case}/follow-ups", who,
                              json={**body, "sustained": False, "roles": []})  # fmt: skip
    assert fixed.status_code == 201, fixed.text
    events = await tap.wait_for(case, "case.follow_up_recorded.v1", count=2)
    assert events[-1].sequence > events[0].sequence and events[-1].data["sustained"] is False
    listed = await intake.call("GET", f"/cases/{case}/follow-ups", who)
    assert [(f["months"], f["sustained"]) for f in listed.json()] == [(3, False)]

    early = await intake.call("POST", f"/cases/{case}/follow-ups", who,
                              json={"months": 6, "sustained": True})  # fmt: skip
    assert early.status_code == 422 and early.json()["field"] == "recorded_on", early.text
    odd = await intake.call("POST", f"/cases/{case}/follow-ups", who,
                            json={"months": 4, "sustained": True})  # fmt: skip
    assert odd.status_code == 422 and odd.json()["field"] == "months", odd.text
    hobby = {"months": 3, "sustained": True, "roles": ["hobby"]}
    bad_role = await intake.call("POST", f"/cases/{case}/follow-ups", who, json=hobby)
    assert bad_role.status_code == 422, bad_role.text

    still_open = await open_case(intake, gmina, person("Ola", "Otwarta"))
    r = await intake.call("POST", f"/cases/{still_open}/follow-ups", who, json=body)
    assert r.status_code == 409 and r.json()["code"] == "case_not_closed", r.text
    other = intake.as_(Role.CASEWORKER, gmina=next(GMINAS))
    r = await intake.call("POST", f"/cases/{case}/follow-ups", other, json=body)
    assert r.status_code == 403, r.text


async def activity_known(
    intake: Service, amqp: AbstractRobustConnection, settings: Settings, gmina: str, kind: str
) -> UUID:
    """A group activity the partnership registered, once intake has its event."""
    activity = ActivityRegistered(
        activity_id=uuid4(), place=terc().gmina(gmina).place, activity_type=kind,
        started_on=date.today(),
    )  # fmt: skip
    await publish(amqp, settings, activity, service="partnership")
    who = intake.as_(Role.CASEWORKER, gmina=gmina)

    async def known() -> bool:
        r = await intake.call("GET", f"/activities/{activity.activity_id}/participants", who)
        return r.status_code == 200

    await eventually(known, what="intake to know the activity")
    return activity.activity_id


async def test_members_join_a_senior_club_and_only_counts_leave_intake(
    intake: Service, tap: EventTap, amqp: AbstractRobustConnection, settings: Settings
) -> None:
    gmina = next(GMINAS)
    who = intake.as_(Role.CASEWORKER, gmina=gmina)
    club = await activity_known(intake, amqp, settings, gmina, "club")
    other_club = await activity_known(intake, amqp, settings, gmina, "club")
    case = await open_case(
        intake, gmina, person("Stanisława", "Seniorka", date(1950, 2, 3)),
        person("Zbigniew", "Senior", date(1948, 5, 6), "M"),
        person("Kasia", "Wnuczka", date(2012, 1, 1)),
    )  # fmt: skip
    members = (await intake.call("GET", f"/cases/{case}", who, headers=REASON)).json()["members"]
    ids = {m["first_name"]: m["person_id"] for m in members}
    seniors = [ids["Stanisława"], ids["Zbigniew"]]

    body = {"case_id": case, "person_ids": seniors}
    key = {"Idempotency-Key": f"club-{case}"}
    first = await intake.call("POST", f"/activities/{club}/participants", who, json=body,
                              headers=key)  # fmt: skip
    assert first.status_code == 200 and first.json()["participants"] == 2, first.text
    again = await intake.call("POST", f"/activities/{club}/participants", who, json=body,
                              headers=key)  # fmt: skip
    assert again.json() == first.json()
    same = await intake.call("POST", f"/activities/{club}/participants", who, json=body)
    assert same.status_code == 200  # the same set: nothing changed, no event
    one = await intake.call("POST", f"/activities/{other_club}/participants", who,
                            json={"case_id": case, "person_ids": seniors[:1]})  # fmt: skip
    assert one.status_code == 200, one.text

    events = await tap.wait_for(case, "activity.participation_changed.v1", count=2)
    counts = [(e.data["participants"], e.data["participants_in_type"]) for e in events]
    assert counts == [(2, 2), (1, 2)]
    assert [e.data["activity_id"] for e in events] == [str(club), str(other_club)]
    for e in events:
        raw = e.model_dump_json()
        assert not any(p in raw for p in (*seniors, "Stanisława", "Seniorka")), raw
    assert len(tap.about(case, "activity.participation_changed.v1")) == 2  # not three

    listed = await intake.call("GET", f"/activities/{club}/participants", who)
    assert listed.json()["participants"] == 2
    assert sorted(listed.json()["cases"][0]["person_ids"]) == sorted(seniors)

    # leaving: the whole set is given, an empty one takes the case's members out
    out = await intake.call("POST", f"/activities/{club}/participants", who,
                            json={"case_id": case, "person_ids": []})  # fmt: skip
    assert out.status_code == 200 and out.json()["participants"] == 0, out.text
    events = await tap.wait_for(case, "activity.participation_changed.v1", count=3)
    assert (events[-1].data["participants"], events[-1].data["participants_in_type"]) == (0, 1)

    stranger = await open_case(intake, gmina, person("Obca", "Osoba"))
    strangers = (await intake.call("GET", f"/cases/{stranger}", who, headers=REASON)).json()
    r = await intake.call("POST", f"/activities/{club}/participants", who,
                          json={"case_id": case,
                                "person_ids": [strangers["members"][0]["person_id"]]})  # fmt: skip
    assert r.status_code == 422 and r.json()["field"] == "person_ids", r.text
    r = await intake.call("POST", f"/activities/{uuid4()}/participants", who, json=body)
    assert r.status_code == 409 and r.json()["code"] == "activity_unknown", r.text
    elsewhere = next(GMINAS)
    theirs = await activity_known(intake, amqp, settings, elsewhere, "workshop_cycle")
    r = await intake.call("POST", f"/activities/{theirs}/participants", who, json=body)
    assert r.status_code == 422 and r.json()["code"] == "activity_of_other_gmina", r.text
    r = await intake.call("GET", f"/activities/{theirs}/participants", who)
    assert r.status_code == 403, r.text
