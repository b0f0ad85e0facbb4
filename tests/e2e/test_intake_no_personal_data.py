"""A family's case driven through intake and diagnosis as the people would, watched by an outside
subscriber: the whole story is on the exchange, and no person is in it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import aio_pika
import pytest

from kooperacja.demo_data import pesel_for
from shared.auth import Role
from shared.envelope import CONTENT_TYPE, parse_envelope, wrap
from shared.events import Place, ReferralAccepted
from shared.settings import Settings
from shared.topology import declare_exchange
from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e
GMINA = "0601172"  # Tuczna, rural
PLACE = Place(gmina=GMINA, powiat="0601", region="06", variant="rural")

PERSONAL = {
    "first name": "Genowefa",
    "surname": "Przybyłowicz",
    "child's name": "Ksawery",
    "birth date": "1979-11-23",
    "child's birth date": "2011-04-08",
    "phone": "+48 698 111 222",
    "email": "genowefa.p@example.pl",
    "address": "Kolonia Dolna 17",
    "interview summary": "Czynsz nieopłacony od czterech miesięcy",
    "assessment notes": "Syn opuszcza lekcje, matka podejrzewa przemoc rówieśniczą",
    "coordinator's notes": "Ojciec dziecka przebywa w zakładzie karnym",
}


async def publish_as_referrals(settings: Settings, event: ReferralAccepted) -> None:
    """What referrals publishes when an institution accepts (its API is being built meanwhile)."""
    connection = await aio_pika.connect_robust(settings.amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await declare_exchange(channel, settings.exchange)
        envelope = wrap(event, region="06", service="referrals")
        await exchange.publish(
            aio_pika.Message(
                body=envelope.to_bytes(),
                content_type=CONTENT_TYPE,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=event.routing_key,
        )
    finally:
        await connection.close()


async def test_no_event_carries_a_name_pesel_birth_date_contact_or_free_text(
    api: Api, outside_subscriber: list[bytes]
) -> None:
    coordinator = api.as_(Role.COORDINATOR, gmina=GMINA)
    caseworker = api.as_(Role.CASEWORKER, gmina=GMINA)
    institution = await api.register_institution(
        GMINA,
        "Poradnia Psychologiczno-Pedagogiczna w Tucznej",
        ["psychological_pedagogical_counselling", "tutoring"],
        sector="education",
    )

    pesel = pesel_for(date(1979, 11, 23), "F", 4242)
    contact = {
        "phone": PERSONAL["phone"],
        "email": PERSONAL["email"],
        "address": PERSONAL["address"],
    }
    response = await api.call(
        "POST",
        "intake",
        "/cases",
        {**caseworker, "Idempotency-Key": f"e2e-{pesel}"},
        json={
            "gmina": GMINA,
            "members": [
                {
                    "first_name": PERSONAL["first name"],
                    "last_name": PERSONAL["surname"],
                    "birth_date": PERSONAL["birth date"],
                    "sex": "F",
                    "pesel": pesel,
                    "contact": contact,
                },
                {
                    "first_name": PERSONAL["child's name"],
                    "last_name": PERSONAL["surname"],
                    "birth_date": PERSONAL["child's birth date"],
                    "sex": "M",
                    "relation": "child",
                },
            ],
            "reasons": ["1", "9"],
            "notified_by": "school",
            "consent": {"given_on": date.today().isoformat(), "scope": ["education"]},
            "interview_summary": PERSONAL["interview summary"],
        },
    )
    assert response.status_code == 201, response.text
    case_id = response.json()["case_id"]

    team = api.as_(Role.TEAM_MEMBER, institution=institution)

    diagnosis = await api.diagnosis_of(case_id, team)
    did = diagnosis["diagnosis_id"]
    response = await api.call(
        "POST",
        "diagnosis",
        f"/diagnoses/{did}/assessments",
        team,
        json={
            "need_area": "child_education",
            "severity": 2,
            "notes": PERSONAL["assessment notes"],
            "recommendations": [
                {"support_type": "tutoring", "priority": 1},
                {"support_type": "psychological_pedagogical_counselling", "priority": 2},
            ],
        },
    )
    assert response.status_code == 201, response.text
    counselling = response.json()["recommendations"][1]
    response = await api.call(
        "POST",
        "diagnosis",
        f"/diagnoses/{did}/assessments",
        coordinator,
        json={"need_area": "finances", "severity": 3, "notes": PERSONAL["coordinator's notes"]},
    )
    assert response.status_code == 201, response.text
    response = await api.call("POST", "diagnosis", f"/diagnoses/{did}/complete", coordinator)
    assert response.status_code == 200, response.text
    response = await api.call(
        "POST",
        "diagnosis",
        f"/diagnoses/{did}/revisions",
        coordinator,
        json={"remove": [counselling]},
    )
    assert response.status_code == 200, response.text
    await api.agree_plan(did, coordinator)

    async def in_support():
        r = await api.call("GET", "intake", "/cases?status=in_support", caseworker)
        return [c for c in r.json() if c["case_id"] == case_id]

    await api.eventually(in_support, what="intake to put the case in support")

    # The institution accepts the referral: its staff may now read the minimal personal data.
    await publish_as_referrals(
        api.settings,
        ReferralAccepted(
            referral_id=uuid4(),
            case_id=UUID(case_id),
            place=PLACE,
            support_type="tutoring",
            institution_id=UUID(institution),
            sector="education",
            complete_by=datetime.now(UTC) + timedelta(days=90),
        ),
    )
    staff = api.as_(Role.INSTITUTION_STAFF, institution=institution)

    async def persons():
        r = await api.call(
            "GET",
            "intake",
            f"/cases/{case_id}/persons?reason=umówienie korepetycji",
            staff,
        )
        return r.json()["persons"] if r.status_code == 200 else None

    people = await api.eventually(persons, what="the institution's access grant")
    assert people[0]["phone"] == PERSONAL["phone"]

    response = await api.call(
        "POST",
        "intake",
        f"/cases/{case_id}/close",
        caseworker,
        json={"outcome": "completed_successfully"},
    )
    assert response.status_code == 200, response.text
    response = await api.call("POST", "intake", f"/cases/{case_id}/reopen", caseworker)
    assert response.status_code == 200, response.text

    def seen() -> set[str]:
        ours = [parse_envelope(b) for b in outside_subscriber if case_id.encode() in b]
        return {e.routing_key for e in ours if e.subject == case_id}

    story = {
        "case.opened.v1",
        "diagnosis.completed.v1",
        "diagnosis.revised.v1",
        "plan.agreed.v1",
        "referral.accepted.v1",
        "case.closed.v1",
        "case.reopened.v1",
    }

    async def whole_story():
        return story <= seen()

    await api.eventually(whole_story, what=f"the whole story; so far {seen()}")
    everything = b"\n".join(outside_subscriber).decode()
    for what, value in {**PERSONAL, "PESEL": pesel}.items():
        assert value not in everything, f"the {what} left intake in an event"
    assert "Przybyłowicz".lower() not in everything.lower()
