"""Notifications' rules: who is told what, once per fact, and e-mails that name no one."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import uuid4

from services.notifications import domain
from services.notifications.domain import Audience, Kind
from shared.codes import CaseOutcome, SupportOutcome, SupportType
from shared.events import (
    CaseClosed,
    CaseConsentGiven,
    CaseOpened,
    CaseReopened,
    SupportAssigned,
    SupportCompleted,
    SupportOverdue,
    SupportUnassignable,
)
from shared.mail import backoff_seconds
from shared.teryt import terc

PLACE = terc().gmina("0601042").place
TODAY = date(2026, 11, 29)


def _overdue(stage: str = "acceptance") -> SupportOverdue:
    return SupportOverdue(
        referral_id=uuid4(),
        case_id=uuid4(),
        place=PLACE,
        support_type=SupportType.PSYCHOLOGIST,
        institution_id=uuid4(),
        stage=stage,
    )


def test_an_overdue_referral_tells_the_gmina_coordinator_once_per_stage() -> None:
    event = _overdue()
    [n] = domain.notifications_of(event, today=TODAY)
    assert (n.kind, n.audience, n.gmina) == (
        Kind.REFERRAL_OVERDUE,
        Audience.COORDINATOR,
        PLACE.gmina,
    )
    assert n.details == {"support_type": "psychologist", "stage": "acceptance"}
    again = domain.notifications_of(event.model_copy(), today=date(2027, 1, 1))
    assert again[0].notification_id == n.notification_id  # the same fact, the same notification
    completion = event.model_copy(update={"stage": "completion"})
    assert domain.notifications_of(completion, today=TODAY)[0].notification_id != n.notification_id


def test_a_new_referral_goes_to_its_institution_staff() -> None:
    institution = uuid4()
    event = SupportAssigned(
        referral_id=uuid4(),
        recommendation_id=uuid4(),
        case_id=uuid4(),
        place=PLACE,
        support_type=SupportType.MEALS,
        institution_id=institution,
        sector="social_assistance",
        attempt=1,
        accept_by=datetime(2026, 12, 6, tzinfo=UTC),
    )
    [n] = domain.notifications_of(event, today=TODAY)
    assert (n.kind, n.audience, n.institution_id) == (
        Kind.REFERRAL_RECEIVED,
        Audience.INSTITUTION_STAFF,
        institution,
    )


def test_unassignable_and_completed_supports_reach_coordinator_and_caseworker() -> None:
    case = uuid4()
    [unassignable] = domain.notifications_of(
        SupportUnassignable(
            recommendation_id=uuid4(),
            case_id=case,
            place=PLACE,
            support_type=SupportType.MEALS,
            attempts=2,
        ),
        today=TODAY,
    )
    assert unassignable.audience is Audience.COORDINATOR
    [completed] = domain.notifications_of(
        SupportCompleted(
            referral_id=uuid4(),
            case_id=case,
            place=PLACE,
            support_type=SupportType.MEALS,
            institution_id=uuid4(),
            sector="social_assistance",
            outcome=SupportOutcome.ACHIEVED,
        ),
        today=TODAY,
    )
    assert (completed.kind, completed.audience) == (Kind.SUPPORT_COMPLETED, Audience.CASEWORKER)


def test_a_diagnosis_waiting_is_one_per_case_and_round_whatever_opened_it() -> None:
    case = uuid4()
    opened = CaseOpened(
        case_id=case,
        place=PLACE,
        opened_on=TODAY,
        household_size=1,
        age_bands={"30-44": 1},
        reasons=["2"],
        notified_by="health",
        consent_to_share=True,
    )
    given = CaseConsentGiven(case_id=case, place=PLACE, given_on=TODAY, round=1)
    [a] = domain.notifications_of(opened, today=TODAY)
    [b] = domain.notifications_of(given, today=TODAY)
    assert a.notification_id == b.notification_id and a.kind is Kind.DIAGNOSIS_WAITING
    [c] = domain.notifications_of(
        CaseReopened(case_id=case, place=PLACE, reopened_on=TODAY, round=2), today=TODAY
    )
    assert c.notification_id != a.notification_id
    without_consent = opened.model_copy(update={"consent_to_share": False})
    assert domain.notifications_of(without_consent, today=TODAY) == []


def test_follow_ups_fall_three_and_six_months_after_the_closing() -> None:
    closed = CaseClosed(
        case_id=uuid4(),
        place=PLACE,
        closed_on=date(2026, 8, 31),
        outcome=CaseOutcome.COMPLETED_SUCCESSFULLY,
    )
    reminders = domain.follow_ups_of(closed)
    assert [(r.months, r.due_on) for r in reminders] == [
        (3, date(2026, 11, 30)),
        (6, date(2027, 2, 28)),
    ]
    [n3, n6] = [domain.follow_up_due(r) for r in reminders]
    assert n3.audience is Audience.CASEWORKER and n3.notification_id != n6.notification_id


def test_an_email_names_the_case_by_reference_and_links_without_personal_data() -> None:
    event = _overdue(stage="completion")
    [n] = domain.notifications_of(event, today=TODAY)
    link = f"https://kooperacja.example/powiadomienia/{n.notification_id}"
    message = domain.mail_of(n, link)
    reference = domain.case_reference(event.case_id)
    assert reference in message.subject and reference in message.body
    assert link in message.body and "realizacji" in message.body
    assert str(event.case_id) not in message.body  # the reference, not the id
    assert len(reference) == 9 and reference[4] == "-"


def test_kinds_follow_the_role() -> None:
    assert domain.kinds_for("institution_staff") == [Kind.REFERRAL_RECEIVED]
    assert Kind.REFERRAL_OVERDUE in domain.kinds_for("coordinator")
    assert domain.kinds_for("analyst") == []


def test_mail_retries_back_off_up_to_an_hour() -> None:
    assert [backoff_seconds(n) for n in (1, 2, 3)] == [30, 60, 120]
    assert backoff_seconds(20) == 3600


async def test_a_failing_mail_pass_never_ends_the_mail_job() -> None:
    """A notification job whose failure stopped its service is not acceptable: the mail job's
    pass fails (here: no database at all) and the job goes on until the service stops."""
    import asyncio

    from shared.mail import mail_job
    from shared.outbox import Origin
    from shared.runtime import ServiceContext
    from shared.settings import Settings

    class NoDatabase:
        calls = 0

        async def fetch(self, *_: object) -> None:
            NoDatabase.calls += 1
            raise ConnectionRefusedError("the database is away")

        async def fetchval(self, *_: object) -> None:
            NoDatabase.calls += 1
            raise ConnectionRefusedError("the database is away")

    stopping = asyncio.Event()
    ctx = ServiceContext("notifications", Settings(), NoDatabase(), Origin("06", "notifications"))  # type: ignore[arg-type]
    job = mail_job.__class__(name=mail_job.name, period=lambda: 0.01, pass_=mail_job.pass_)
    running = asyncio.create_task(job.run(ctx, stopping))
    while NoDatabase.calls < 3:
        assert not running.done()
        await asyncio.sleep(0.01)
    stopping.set()
    await asyncio.wait_for(running, timeout=10)
    assert NoDatabase.calls >= 3  # it kept going after each failure until told to stop
