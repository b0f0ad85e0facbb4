"""The partnership service on the real database and broker: a partnership formed by agreement,
its roles, diagnostic team and representatives (never in an event), membership history, who
may change and read it; its meetings and their decisions; and the upgrade path from referrals'
announcements, in any order and more than once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from aio_pika.abc import AbstractRobustConnection

from services.partnership.app import spec as partnership_spec
from shared.auth import Role
from shared.db import create_pool
from shared.events import InstitutionRegistered, InstitutionUpdated, PartnershipChanged
from shared.settings import Settings
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
GMINAS = Gminas("22")  # pomorskie: no other test uses its gminas
NAME = "partnershipit"
TODAY = date.today()


@pytest.fixture(scope="module")
async def service(settings: Settings) -> AsyncIterator[Service]:
    async with running(partnership_spec, NAME, 31, settings) as started:
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


async def handled(pool: asyncpg.Pool, *event_ids: UUID) -> bool:
    count = await pool.fetchval(
        "SELECT count(*) FROM inbox WHERE event_id = ANY($1::uuid[])", list(event_ids)
    )
    return bool(count == len(event_ids))


class Partnership:
    """One gmina's partnership, driven by its coordinator."""

    def __init__(self, service: Service, gmina: str) -> None:
        self.service = service
        self.gmina = gmina
        self.coordinator = service.as_(Role.COORDINATOR, gmina=gmina)

    async def post(self, path: str, body: dict[str, Any], **kw: Any) -> Any:
        return await self.service.call(
            "POST", f"/partnerships/{self.gmina}{path}", self.coordinator, json=body, **kw
        )

    async def read(self, who: dict[str, str] | None = None) -> Any:
        return await self.service.call(
            "GET", f"/partnerships/{self.gmina}", who or self.coordinator
        )

    async def form(self, parties: list[UUID], signed_on: date = TODAY) -> dict[str, Any]:
        r = await self.post(
            "/agreements",
            {
                "signed_on": signed_on.isoformat(),
                "parties": [str(p) for p in parties],
                "documents": ["Porozumienie nr 1/2024"],
            },
        )
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]


@pytest.fixture
def partnership(service: Service) -> Partnership:
    return Partnership(service, GMINAS.fresh())


async def register(
    amqp: AbstractRobustConnection,
    settings: Settings,
    pool: asyncpg.Pool,
    gmina: str,
    sector: str = "social_assistance",
) -> UUID:
    institution = uuid4()
    env = await publish(
        amqp,
        settings,
        InstitutionRegistered(
            institution_id=institution,
            name=f"Instytucja {str(institution)[:8]}",
            sector=sector,
            support_types=["psychologist"],
            gminas=[gmina],
        ),
    )
    await eventually(lambda: handled(pool, env.id), what="the directory entry")
    return institution


def problem(response: Any, status: int, code: str, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    if field is not None:
        assert body["field"] == field, body


async def test_a_partnership_formed_by_agreement_announces_its_members_and_roles(
    partnership: Partnership,
    tap: EventTap,
    amqp: AbstractRobustConnection,
    settings: Settings,
    db: asyncpg.Pool,
) -> None:
    ops, pcpr, school = [
        await register(amqp, settings, db, partnership.gmina, s)
        for s in ("social_assistance", "social_assistance", "education")
    ]
    formed = await partnership.form([ops, pcpr, school], signed_on=TODAY - timedelta(days=30))
    assert {m["institution_id"] for m in formed["members"]} == {str(ops), str(pcpr), str(school)}
    assert formed["agreements"][0]["documents"] == ["Porozumienie nr 1/2024"]
    assert all(m["name"] for m in formed["members"])  # from the directory

    r = await partnership.post(
        "/representatives",
        {
            "institution_id": str(pcpr),
            "name": "Halina Zawadzka",
            "function": "dyrektorka PCPR",
            "email": "h.zawadzka@pcpr.example.pl",
        },
    )
    assert r.status_code == 201, r.text
    [person] = r.json()["representatives"]
    r = await partnership.post(
        "/roles",
        {
            "role": "animator",
            "institution_id": str(pcpr),
            "representative_id": person["representative_id"],
        },
    )
    assert r.status_code == 200, r.text
    r = await partnership.post("/roles", {"role": "coordinator", "institution_id": str(ops)})
    assert r.status_code == 200, r.text
    r = await partnership.post("/diagnostic-team", {"institutions": [str(ops), str(school)]})
    assert r.status_code == 200, r.text

    announced = await tap.wait_for(partnership.gmina, "partnership.changed.v1", count=5)
    last = max(announced, key=lambda e: e.data["version"])
    assert last.data["version"] == 5
    assert set(last.data["institutions"]) == {str(ops), str(pcpr), str(school)}
    assert last.data["coordinator_institution"] == str(ops)
    assert last.data["animator_institution"] == str(pcpr)
    assert set(last.data["diagnostic_team"]) == {str(ops), str(school)}
    assert last.data["agreement_signed_on"] == (TODAY - timedelta(days=30)).isoformat()
    # the representative is a person: never in an event
    for envelope in announced:
        assert b"Zawadzka" not in envelope.to_bytes() and b"pcpr.example" not in envelope.to_bytes()

    # the coordinator's role holder cannot simply leave
    r = await partnership.post(f"/members/{ops}/leave", {"left_on": TODAY.isoformat()})
    problem(r, 409, "role_held")
    # the school leaves: in the history, off the diagnostic team, no longer on the team
    r = await partnership.post(f"/members/{school}/leave", {"left_on": TODAY.isoformat()})
    assert r.status_code == 200, r.text
    after = r.json()
    assert str(school) not in {m["institution_id"] for m in after["members"]}
    assert after["diagnostic_team"] == [str(ops)]
    [stretch] = [m for m in after["membership_history"] if m["institution_id"] == str(school)]
    assert (stretch["joined_on"], stretch["left_on"]) == (
        (TODAY - timedelta(days=30)).isoformat(),
        TODAY.isoformat(),
    )
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    r = await partnership.service.call(
        "GET", f"/partnerships/{partnership.gmina}/members-on/{yesterday}", partnership.coordinator
    )
    assert str(school) in r.json()["institutions"]


async def test_only_the_gminas_coordinator_changes_it_and_analysts_read_no_partnership(
    partnership: Partnership,
    amqp: AbstractRobustConnection,
    settings: Settings,
    db: asyncpg.Pool,
) -> None:
    ops = await register(amqp, settings, db, partnership.gmina)
    outsider = await register(amqp, settings, db, partnership.gmina)
    await partnership.form([ops])
    service = partnership.service
    body = {"institution_id": str(outsider), "joined_on": TODAY.isoformat()}
    path = f"/partnerships/{partnership.gmina}/members"
    for who in (
        service.as_(Role.COORDINATOR, gmina=GMINAS.fresh()),
        service.as_(Role.COORDINATOR, powiat=partnership.gmina[:4]),
        service.as_(Role.CASEWORKER, gmina=partnership.gmina),
        service.as_(Role.TEAM_MEMBER, institution=ops),
    ):
        r = await service.call("POST", path, who, json=body)
        assert r.status_code == 403, r.text
    for who in (
        service.as_(Role.ANALYST, region="22"),
        service.as_(Role.TEAM_MEMBER, institution=outsider),
        service.as_(Role.COORDINATOR, gmina=GMINAS.fresh()),
    ):
        assert (await partnership.read(who)).status_code == 403
    # a member's staff reads it, with the people; a caseworker without them
    member = await partnership.read(service.as_(Role.TEAM_MEMBER, institution=ops))
    assert member.status_code == 200
    caseworker = await partnership.read(service.as_(Role.CASEWORKER, gmina=partnership.gmina))
    assert caseworker.status_code == 200


async def test_bad_input_is_refused_naming_the_field(
    partnership: Partnership, amqp: AbstractRobustConnection, settings: Settings, db: asyncpg.Pool
) -> None:
    ops = await register(amqp, settings, db, partnership.gmina)
    future = (TODAY + timedelta(days=2)).isoformat()
    r = await partnership.post("/agreements", {"signed_on": future, "parties": [str(ops)]})
    problem(r, 422, "signed_in_future", "signed_on")
    r = await partnership.post(
        "/agreements",
        {"signed_on": TODAY.isoformat(), "valid_until": "2000-01-01", "parties": [str(ops)]},
    )
    problem(r, 422, "valid_until_before_from", "valid_until")
    await partnership.form([ops])
    r = await partnership.post("/diagnostic-team", {"institutions": [str(uuid4())]})
    problem(r, 422, "not_a_partnership_member", "institutions[0]")
    r = await partnership.post(
        "/representatives",
        {"institution_id": str(ops), "name": "Jan", "function": "x" * 3, "email": "not-mail"},
    )
    problem(r, 422, "validation_failed", "email")
    r = await partnership.post("/roles", {"role": "coordinator", "institution_id": str(uuid4())})
    problem(r, 422, "not_a_partnership_member", "institution_id")
    r = await partnership.post(
        "/members", {"institution_id": str(ops), "joined_on": TODAY.isoformat()}
    )
    problem(r, 409, "already_a_member")


async def test_a_retried_change_answers_as_the_first_and_changes_nothing_twice(
    partnership: Partnership,
    tap: EventTap,
    amqp: AbstractRobustConnection,
    settings: Settings,
    db: asyncpg.Pool,
) -> None:
    ops = await register(amqp, settings, db, partnership.gmina)
    body = {"signed_on": TODAY.isoformat(), "parties": [str(ops)]}
    key = {"Idempotency-Key": f"form-{partnership.gmina}"}
    first = await partnership.post("/agreements", body, headers=key)
    again = await partnership.post("/agreements", body, headers=key)
    assert (first.status_code, first.json()) == (again.status_code, again.json())
    assert len((await partnership.read()).json()["agreements"]) == 1
    other = await partnership.post("/agreements", {**body, "documents": ["aneks"]}, headers=key)
    problem(other, 422, "idempotency_key_reused", "Idempotency-Key")


async def test_referrals_earlier_announcements_seed_the_membership_in_any_order_once(
    partnership: Partnership,
    tap: EventTap,
    amqp: AbstractRobustConnection,
    settings: Settings,
    db: asyncpg.Pool,
) -> None:
    """The upgrade path: what referrals announced before this service owned membership."""
    a, b, c = uuid4(), uuid4(), uuid4()
    now = datetime.now(UTC)
    earlier = PartnershipChanged(gmina=partnership.gmina, institutions=[a, b])
    later = PartnershipChanged(gmina=partnership.gmina, institutions=[a, c])
    # the later first, the earlier after it, each twice
    sent = []
    for event, at in ((later, now - timedelta(days=1)), (earlier, now - timedelta(days=10))):
        env = await publish(amqp, settings, event, time=at)
        sent.append(env)
        await publish_again(amqp, settings, env)
    await eventually(lambda: handled(db, *(e.id for e in sent)), what="the announcements")
    seeded = (await partnership.read()).json()
    assert {m["institution_id"] for m in seeded["members"]} == {str(a), str(c)}

    # once the partnership changes here, referrals' announcements are history
    d = uuid4()
    r = await partnership.post(
        "/members", {"institution_id": str(d), "joined_on": TODAY.isoformat()}
    )
    assert r.status_code == 201, r.text
    stale = await publish(
        amqp, settings, PartnershipChanged(gmina=partnership.gmina, institutions=[b])
    )
    await eventually(lambda: handled(db, stale.id), what="the stale announcement")
    members = {m["institution_id"] for m in (await partnership.read()).json()["members"]}
    assert members == {str(a), str(c), str(d)}
    # and its own events, coming back through its queue, seed nothing
    announced = await tap.wait_for(partnership.gmina, "partnership.changed.v1", count=4)
    [mine] = [e for e in announced if e.source.endswith(f"/{NAME}")]
    assert mine.data["version"] == 1


async def publish_again(amqp: AbstractRobustConnection, settings: Settings, env: Any) -> None:
    """The same envelope (same id) once more: a redelivery."""
    import aio_pika

    from shared.envelope import CONTENT_TYPE
    from shared.topology import declare_exchange

    channel = await amqp.channel(publisher_confirms=True)
    try:
        exchange = await declare_exchange(channel, settings.exchange)
        await exchange.publish(
            aio_pika.Message(body=env.to_bytes(), content_type=CONTENT_TYPE),
            routing_key=env.routing_key,
        )
    finally:
        await channel.close()


async def test_directory_events_in_any_order_keep_the_latest_name(
    partnership: Partnership, amqp: AbstractRobustConnection, settings: Settings, db: asyncpg.Pool
) -> None:
    institution = uuid4()
    now = datetime.now(UTC)
    base = {
        "institution_id": institution,
        "sector": "education",
        "support_types": ["tutoring"],
        "gminas": [partnership.gmina],
    }
    newer = InstitutionUpdated(**base, name="Szkoła Podstawowa nr 2")
    older = InstitutionRegistered(**base, name="Szkoła nr 2")
    envs = [
        await publish(amqp, settings, newer, time=now),
        await publish(amqp, settings, older, time=now - timedelta(hours=1)),
    ]
    await publish_again(amqp, settings, envs[0])
    await eventually(lambda: handled(db, *(e.id for e in envs)), what="the directory")
    await partnership.form([institution])
    [member] = (await partnership.read()).json()["members"]
    assert (member["name"], member["sector"]) == ("Szkoła Podstawowa nr 2", "education")


async def test_a_meeting_with_its_decisions_is_announced_in_ids_and_counts(
    partnership: Partnership,
    tap: EventTap,
    amqp: AbstractRobustConnection,
    settings: Settings,
    db: asyncpg.Pool,
) -> None:
    ops = await register(amqp, settings, db, partnership.gmina, "social_assistance")
    school = await register(amqp, settings, db, partnership.gmina, "education")
    police = await register(amqp, settings, db, partnership.gmina, "police")
    await partnership.form([ops, school, police], signed_on=TODAY - timedelta(days=60))
    case, other_case = uuid4(), uuid4()
    held_on = (TODAY - timedelta(days=1)).isoformat()
    r = await partnership.post(
        "/meetings",
        {
            "held_on": held_on,
            "agenda": "1. Rodzina K.\n2. Sprawy bieżące",
            "minutes": "Zespół omówił sytuację rodziny K. i uzgodnił diagnozę.",
            "attendance": [str(ops), str(school)],
            "cases": [str(other_case)],
            "decisions": [
                {
                    "kind": "diagnosis_agreed",
                    "case_id": str(case),
                    "description": "jak w protokole",
                },
                {
                    "kind": "referral_agreed",
                    "case_id": str(case),
                    "institution_id": str(school),
                    "support_type": "tutoring",
                },
                {"kind": "other", "description": "następne spotkanie za miesiąc"},
            ],
        },
    )
    assert r.status_code == 201, r.text
    meeting = r.json()
    assert set(meeting["cases"]) == {str(case), str(other_case)}
    assert {a["sector"] for a in meeting["attendance"]} == {"social_assistance", "education"}
    [held] = await tap.wait_for(meeting["meeting_id"], "meeting.held.v1")
    assert held.data["version"] == 1 and held.data["decisions"] == 3
    assert sorted(held.data["sectors"]) == ["education", "social_assistance"]
    assert held.data["place"]["gmina"] == partnership.gmina
    decided = await tap.wait_for(case, "meeting.decision_recorded.v1", count=2)
    assert {d.data["kind"] for d in decided} == {"diagnosis_agreed", "referral_agreed"}
    for envelope in [held, *decided]:
        body = envelope.to_bytes()
        assert b"Rodzina K" not in body and b"protok" not in body  # words stay in the service

    # a plan agreed, recorded afterwards: a new version of the meeting
    r = await partnership.service.call(
        "POST",
        f"/meetings/{meeting['meeting_id']}/decisions",
        partnership.coordinator,
        json={"kind": "plan_agreed", "case_id": str(case)},
    )
    assert r.status_code == 201, r.text
    versions = await tap.wait_for(meeting["meeting_id"], "meeting.held.v1", count=2)
    assert max(v.data["version"] for v in versions) == 2

    # the case's timeline reads the decisions of its gmina's meetings only
    caseworker = partnership.service.as_(Role.CASEWORKER, gmina=partnership.gmina)
    r = await partnership.service.call("GET", f"/cases/{case}/decisions", caseworker)
    assert [(d["kind"], d["held_on"]) for d in r.json()] == [
        ("diagnosis_agreed", held_on),
        ("referral_agreed", held_on),
        ("plan_agreed", held_on),
    ]
    elsewhere = partnership.service.as_(Role.CASEWORKER, gmina=GMINAS.fresh())
    r = await partnership.service.call("GET", f"/cases/{case}/decisions", elsewhere)
    assert r.json() == []
    r = await partnership.service.call("GET", f"/meetings/{meeting['meeting_id']}", elsewhere)
    assert r.status_code == 404
    r = await partnership.service.call(
        "GET", f"/partnerships/{partnership.gmina}/meetings", caseworker
    )
    assert [(m["institutions"], m["cases"], m["decisions"]) for m in r.json()] == [(2, 2, 4)]


async def test_a_meeting_is_refused_naming_the_field(
    partnership: Partnership, amqp: AbstractRobustConnection, settings: Settings, db: asyncpg.Pool
) -> None:
    ops = await register(amqp, settings, db, partnership.gmina)
    r = await partnership.post(
        "/meetings", {"held_on": TODAY.isoformat(), "attendance": [str(ops)]}
    )
    problem(r, 404, "partnership_not_found")
    await partnership.form([ops])
    stranger = uuid4()
    cases = [
        ({"attendance": [str(stranger)]}, "not_a_partnership_member", "attendance[0]"),
        ({"held_on": (TODAY + timedelta(days=1)).isoformat()}, "date_in_future", "held_on"),
        ({"decisions": [{"kind": "plan_agreed"}]}, "case_required", "decisions[0].case_id"),
        (
            {"decisions": [{"kind": "referral_agreed", "case_id": str(uuid4())}]},
            "institution_required",
            "decisions[0].institution_id",
        ),
    ]
    for change, code, field in cases:
        body = {"held_on": TODAY.isoformat(), "attendance": [str(ops)], **change}
        problem(await partnership.post("/meetings", body), 422, code, field)
    other = partnership.service.as_(Role.COORDINATOR, gmina=GMINAS.fresh())
    r = await partnership.service.call(
        "POST",
        f"/partnerships/{partnership.gmina}/meetings",
        other,
        json={"held_on": TODAY.isoformat(), "attendance": [str(ops)]},
    )
    problem(r, 403, "not_the_gminas_coordinator")


async def test_a_first_start_catches_up_from_the_event_log(
    amqp: AbstractRobustConnection, settings: Settings
) -> None:
    """The upgrade path of an installation: referrals' announcement and the directory entry
    were published before this instance had a queue; its first start reads them from the
    event log (the stream), once."""
    gmina = GMINAS.fresh()
    ops, school = uuid4(), uuid4()
    announced = await publish(
        amqp, settings, PartnershipChanged(gmina=gmina, institutions=[ops, school])
    )
    registered = await publish(
        amqp,
        settings,
        InstitutionRegistered(
            institution_id=ops,
            name="GOPS sprzed aktualizacji",
            sector="social_assistance",
            support_types=["meals"],
            gminas=[gmina],
        ),
    )
    async with running(partnership_spec, "partnershipcu", 32, settings) as fresh:
        pool = await create_pool(settings.database_url("partnershipcu"))
        try:

            async def caught_up() -> Any:
                return await pool.fetchrow("SELECT events, seeded FROM catch_up")

            done = await eventually(caught_up, what="the catch-up", within=60)
            assert done["seeded"] >= 2
            assert await handled(pool, announced.id, registered.id)
            coordinator = fresh.as_(Role.COORDINATOR, gmina=gmina)
            seeded = (await fresh.call("GET", f"/partnerships/{gmina}", coordinator)).json()
            members = {m["institution_id"]: m["name"] for m in seeded["members"]}
            assert members == {str(ops): "GOPS sprzed aktualizacji", str(school): None}
            assert [h["what"] for h in seeded["history"]] == ["joined", "joined"]
        finally:
            await pool.close()
